package io.ferrite.bench.jmh;

import io.ferrite.bench.workload.KeyCodec;
import io.ferrite.master.EngineContext;
import io.ferrite.master.ObjectManager;
import io.ferrite.master.ObjectResult;
import io.ferrite.master.RejectRules;
import io.ferrite.master.Status;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Single-threaded reads and overwrites of random existing keys in an engine holding one
 * million objects (16-byte keys, 100-byte values) in 1 GiB, with one cleaner thread. Keys are
 * made before the measurement; a write that gets {@link Status#RETRY} waits for the cleaner
 * (that wait is measured: it is part of a write's cost).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {
    "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xmx3g"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class EngineBenchmark {
    public static final int OBJECTS = 1_000_000;
    public static final int VALUE_BYTES = 100;
    public static final long TABLE_ID = 1;
    private static final long MEMORY_BYTES = 1L << 30;
    private static final long RETRY_WAIT_NS = TimeUnit.SECONDS.toNanos(1);
    private static final long STALL_LIMIT_NS = TimeUnit.SECONDS.toNanos(30);

    private ObjectManager manager;
    private byte[][] keys;
    private byte[] value;

    /** What each benchmark thread owns: its result holder and its random-number state. */
    @State(Scope.Thread)
    public static class Worker {
        final ObjectResult result = new ObjectResult();
        long randomState = System.nanoTime() | 1;

        /** A random key index in {@code [0, OBJECTS)} (xorshift64*). */
        int nextIndex() {
            long x = randomState;
            x ^= x >>> 12;
            x ^= x << 25;
            x ^= x >>> 27;
            randomState = x;
            return (int) (((x * 0x2545F4914F6CDD1DL) >>> 32) * OBJECTS >>> 32);
        }
    }

    @Setup(Level.Trial)
    public void fill() throws InterruptedException {
        manager = new ObjectManager(new EngineContext().memoryBytes(MEMORY_BYTES).cleanerThreads(1).conclude());
        keys = new byte[OBJECTS][];
        value = new byte[VALUE_BYTES];
        for (int i = 0; i < VALUE_BYTES; i++) {
            value[i] = (byte) (i * 31);
        }
        ObjectResult result = new ObjectResult();
        for (int i = 0; i < OBJECTS; i++) {
            keys[i] = KeyCodec.key(i);
            put(keys[i], result);
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        manager.close();
    }

    /** Reads a random existing key; returns its value length (so the read is not dead code). */
    @Benchmark
    public int read(Worker worker) {
        Status status = manager.read(TABLE_ID, keys[worker.nextIndex()], worker.result);
        if (status != Status.OK) {
            throw new IllegalStateException("read returned " + status);
        }
        return worker.result.valueLength();
    }

    /** Overwrites a random existing key with a 100-byte value; returns the new version. */
    @Benchmark
    public long write(Worker worker) throws InterruptedException {
        return put(keys[worker.nextIndex()], worker.result);
    }

    private long put(byte[] key, ObjectResult result) throws InterruptedException {
        Status status = manager.write(TABLE_ID, key, value, RejectRules.NONE, result);
        if (status == Status.RETRY) {
            long startNs = System.nanoTime();
            do {
                if (System.nanoTime() - startNs > STALL_LIMIT_NS) {
                    throw new IllegalStateException("write kept getting RETRY for 30 s");
                }
                manager.awaitFreeMemory(RETRY_WAIT_NS);
                status = manager.write(TABLE_ID, key, value, RejectRules.NONE, result);
            } while (status == Status.RETRY);
        }
        if (status != Status.OK) {
            throw new IllegalStateException("write returned " + status);
        }
        return result.version();
    }
}
