package io.ferrite.chaos;

import io.ferrite.chaos.history.History;
import io.ferrite.chaos.history.Op;
import io.ferrite.chaos.history.Result;
import io.ferrite.client.InvalidArgumentException;
import io.ferrite.client.ObjectNotFoundException;
import io.ferrite.client.ObjectValue;
import io.ferrite.client.OpResult;
import io.ferrite.client.Table;
import io.ferrite.client.TableNotFoundException;
import io.ferrite.client.WriteOp;
import io.ferrite.client.WrongVersionException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The chaos workload: a few client threads, each one Jepsen-style process with one operation in
 * flight, on a bounded key set: register keys ({@code r0…}) take reads, writes, compare-and-set
 * on versions, multi-writes and multi-reads; counter keys ({@code c0…}) take increments (positive
 * deltas) and reads. Every call is recorded in the {@link History}: ok with its answer, a refused
 * condition as an ok answer the checker must justify, fail only where nothing can have changed
 * (an argument the client rejected before sending), info (unknown outcome) for everything else —
 * timeouts, lost connections, errors after the request may have left. After an info the thread
 * carries on as a new process, since its old call may still take effect.
 *
 * <p>Each thread draws its operations from its own random seeded from the run's seed; each
 * thread is paced to a fixed rate, leaving the two cores to the cluster.
 */
final class Workload {
    private final Table table;
    private final History history;
    private final int registers;
    private final int counters;
    private final int threads;
    private final double opsPerSecondPerThread;
    private final long seed;
    private final AtomicLong okCount = new AtomicLong();
    private final AtomicLong infoCount = new AtomicLong();
    private final AtomicLong failCount = new AtomicLong();
    private final List<Thread> running = new ArrayList<>();
    private volatile boolean stopping;

    Workload(Table table, History history, int registers, int counters, int threads, double opsPerSecondPerThread,
             long seed) {
        this.table = table;
        this.history = history;
        this.registers = registers;
        this.counters = counters;
        this.threads = threads;
        this.opsPerSecondPerThread = opsPerSecondPerThread;
        this.seed = seed;
    }

    static String register(int i) {
        return "r" + i;
    }

    static String counter(int i) {
        return "c" + i;
    }

    /** Starts the client threads. */
    void start() {
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread th = Thread.ofPlatform().name("workload-" + t).daemon().start(() -> run(thread));
            running.add(th);
        }
    }

    /** Stops issuing operations and waits for the calls in flight to end (each has a timeout). */
    void stop() throws InterruptedException {
        stopping = true;
        for (Thread t : running) {
            t.join();
        }
    }

    long ok() {
        return okCount.get();
    }

    long info() {
        return infoCount.get();
    }

    long failed() {
        return failCount.get();
    }

    private void run(int thread) {
        Random random = new Random(seed * 31 + thread);
        int generation = 0;
        long interval = (long) (TimeUnit.SECONDS.toNanos(1) / opsPerSecondPerThread);
        long next = System.nanoTime();
        Map<String, Long> seenVersions = new HashMap<>();
        long sequence = 0;
        while (!stopping) {
            int process = thread * 1000 + generation;
            boolean unknown = step(process, random, seenVersions, "p" + thread + "-" + (sequence++));
            if (unknown) {
                generation++;
            }
            next += interval;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait); // pacing the load, not synchronization
            } else {
                next = System.nanoTime();
            }
        }
    }

    /** One operation; returns whether its outcome is unknown. */
    private boolean step(int process, Random random, Map<String, Long> seen, String value) {
        int dice = random.nextInt(100);
        if (dice < 10 && counters > 0) {
            String key = counter(random.nextInt(counters));
            long delta = 1 + random.nextInt(5);
            return call(process, Op.incr(key, delta), () -> Result.counter(table.incrementLong(key, delta)));
        }
        if (dice < 15 && counters > 0) {
            String key = counter(random.nextInt(counters));
            return call(process, Op.read(key), () -> table.read(key).map(v -> Result.counter(asLong(v)))
                    .<Result>map(r -> r).orElse(Result.absent()));
        }
        String key = register(random.nextInt(registers));
        if (dice < 45) {
            return call(process, Op.read(key), () -> {
                Optional<ObjectValue> v = table.read(key);
                v.ifPresent(o -> seen.put(key, o.version()));
                return v.<Result>map(o -> Result.found(o.valueAsString(), o.version())).orElse(Result.absent());
            });
        }
        if (dice < 70) {
            return call(process, Op.write(key, value), () -> {
                long version = table.write(key, value);
                seen.put(key, version);
                return Result.written(version);
            });
        }
        if (dice < 85) {
            long expected = seen.getOrDefault(key, 1L + random.nextInt(3));
            return call(process, Op.cas(key, expected, value), () -> {
                try {
                    long version = table.write(key, value, io.ferrite.client.Condition.ifVersion(expected));
                    seen.put(key, version);
                    return Result.written(version);
                } catch (WrongVersionException e) {
                    if (e.currentVersion() > 0) {
                        seen.put(key, e.currentVersion());
                    }
                    return Result.refusedWrongVersion(e.currentVersion());
                } catch (ObjectNotFoundException e) {
                    seen.remove(key);
                    return Result.refusedNotFound();
                }
            });
        }
        List<String> keys = distinctRegisters(random, 2 + random.nextInt(3));
        if (dice < 93) {
            List<String> values = new ArrayList<>();
            List<WriteOp> ops = new ArrayList<>();
            for (int i = 0; i < keys.size(); i++) {
                values.add(value + "." + i);
                ops.add(WriteOp.of(keys.get(i), values.get(i)));
            }
            return call(process, Op.multiWrite(keys, values), () -> {
                List<OpResult> results = table.multiWrite(ops);
                List<Result> out = new ArrayList<>();
                for (OpResult r : results) {
                    if (!r.isOk()) {
                        throw new IllegalStateException("an unconditional write in a multi-write answered " + r.outcome());
                    }
                    out.add(Result.written(r.version()));
                }
                return Result.multi(out);
            });
        }
        return call(process, Op.multiRead(keys), () -> {
            List<Optional<ObjectValue>> values = table.multiRead(keys.toArray(String[]::new));
            List<Result> out = new ArrayList<>();
            for (Optional<ObjectValue> v : values) {
                out.add(v.<Result>map(o -> Result.found(o.valueAsString(), o.version())).orElse(Result.absent()));
            }
            return Result.multi(out);
        });
    }

    private List<String> distinctRegisters(Random random, int count) {
        List<String> keys = new ArrayList<>();
        while (keys.size() < Math.min(count, registers)) {
            String k = register(random.nextInt(registers));
            if (!keys.contains(k)) {
                keys.add(k);
            }
        }
        return keys;
    }

    static long asLong(ObjectValue v) {
        return asLong(v.keyAsString(), v.value());
    }

    /** A counter's value as the server stores it: 8 bytes, little-endian. */
    static long asLong(String key, byte[] b) {
        if (b.length != Long.BYTES) {
            throw new IllegalStateException("counter " + key + " holds " + b.length + " bytes");
        }
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private interface Call {
        Result run();
    }

    private boolean call(int process, Op op, Call call) {
        long id = history.invoke(process, op);
        try {
            Result r = call.run();
            history.ok(id, r);
            okCount.incrementAndGet();
            return false;
        } catch (InvalidArgumentException | TableNotFoundException e) {
            // Refused before anything was applied.
            history.fail(id, e.getClass().getSimpleName() + ": " + e.getMessage());
            failCount.incrementAndGet();
            return false;
        } catch (RuntimeException e) {
            history.info(id, e.getClass().getSimpleName() + ": " + e.getMessage());
            infoCount.incrementAndGet();
            return true;
        }
    }
}
