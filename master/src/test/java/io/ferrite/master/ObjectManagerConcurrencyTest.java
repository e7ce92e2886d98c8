package io.ferrite.master;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.master.log.LogSegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Three writer threads and two reader threads on overlapping keys, with the cleaner running and
 * memory under pressure (a small hash table that must grow under the readers, too).
 *
 * <ul>
 *   <li>Own keys: writer {@code w} alone writes and removes keys {@code w<w>-<j>}; each value
 *       carries the writer, its sequence number and the key index, and a fill derived from
 *       them. Nobody may observe a value older than the last write (or remove) the writer had
 *       acknowledged before the read began, nor find the key absent unless it was absent then or
 *       a remove of it has started since (an {@link OwnKeyLedger} per writer keeps that, apart
 *       from the last operation started: a remove followed by a rewrite must still count); the
 *       writer reads back exactly its own last state.</li>
 *   <li>Shared keys: every writer writes them; a value read must be intact and one that was
 *       issued; versions seen by one reader never go back; at the end each holds the
 *       acknowledged write with the highest version.</li>
 *   <li>Counters: int64 and double increments from every writer sum exactly; the sums each
 *       thread sees only grow (all deltas are positive).</li>
 * </ul>
 *
 * No exceptions anywhere, no cleaning pass left holding a claim, and the final state matches.
 * Seeds are fixed per thread ({@code -Dferrite.seed} overrides the base).
 */
class ObjectManagerConcurrencyTest {
    private static final long OWN_TABLE = 10;
    private static final long SHARED_TABLE = 11;
    private static final long COUNTER_TABLE = 12;
    private static final int WRITERS = 3;
    private static final int READERS = 2;
    private static final int OWN_KEYS = 2_200;
    private static final int SHARED_KEYS = 200;
    private static final int LONG_COUNTERS = 8;
    private static final int DOUBLE_COUNTERS = 4;
    private static final long RETRY_LIMIT_NS = TimeUnit.SECONDS.toNanos(30);
    private static final int HEADER_BYTES = 13; // writer (1) | sequence (8) | key index (4)

    @ParameterizedTest(name = "cleanerThreads={0}")
    @ValueSource(ints = {1, 2})
    void writersAndReadersAgreeUnderMemoryPressure(int cleanerThreads) throws Exception {
        new Run(TestSeeds.seed(0xC0C0_0000L + cleanerThreads), cleanerThreads, 30_000,
                TimeUnit.SECONDS.toNanos(8)).execute();
    }

    @Tag("long")
    @ParameterizedTest(name = "cleanerThreads={0}")
    @ValueSource(ints = {1, 2})
    void writersAndReadersAgreeUnderMemoryPressureLong(int cleanerThreads) throws Exception {
        long ops = TestSeeds.longProperty("ferrite.concurrency.ops", 1_000_000);
        new Run(TestSeeds.seed(0x10_C0C0_0000L + cleanerThreads), cleanerThreads, ops,
                TimeUnit.MINUTES.toNanos(10)).execute();
    }

    private static byte[] ownKey(int writer, int index) {
        return ("w" + writer + "-" + index).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] sharedKey(int index) {
        return ("s" + index).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] counterKey(int index) {
        return ("c" + index).getBytes(StandardCharsets.UTF_8);
    }

    /** Value size of own key {@code index}: 256 B to about 12 KiB, fixed per key so the live size stays bounded. */
    private static int ownValueSize(int index) {
        return 256 + (int) ((index * 2_654_435_761L) % 12_000);
    }

    private static int sharedValueSize(int index) {
        return HEADER_BYTES + 64 + index * 17 % 4_000;
    }

    private static byte fill(int writer, long sequence, int position) {
        return (byte) (sequence * 31 + position * 7 + writer);
    }

    private static byte[] valueOf(int writer, long sequence, int keyIndex, int size) {
        byte[] value = new byte[size];
        value[0] = (byte) writer;
        for (int i = 0; i < 8; i++) {
            value[1 + i] = (byte) (sequence >>> (8 * i));
        }
        for (int i = 0; i < 4; i++) {
            value[9 + i] = (byte) (keyIndex >>> (8 * i));
        }
        for (int i = HEADER_BYTES; i < size; i++) {
            value[i] = fill(writer, sequence, i);
        }
        return value;
    }

    private static long longAt(byte[] buffer, int offset, int bytes) {
        long value = 0;
        for (int i = 0; i < bytes; i++) {
            value |= (buffer[offset + i] & 0xFFL) << (8 * i);
        }
        return value;
    }

    /** An own key's state for a message: "write at sequence N", "remove at sequence N" or "never written". */
    private static String describe(long state) {
        return state == 0 ? "never written"
                : ((state & 1) == 1 ? "remove" : "write") + " at sequence " + OwnKeyLedger.sequenceOf(state);
    }

    @FunctionalInterface
    private interface Operation {
        Status apply();
    }

    private static final class Run {
        private final long seed;
        private final long opsPerWriter;
        private final long deadlineNs;
        private final ObjectManager engine;
        /** Per writer: acknowledged and started operations on its own keys (see {@link OwnKeyLedger}). */
        private final OwnKeyLedger[] own = new OwnKeyLedger[WRITERS];
        private final AtomicLong[] issued = new AtomicLong[WRITERS];
        private final long[][] longSums = new long[WRITERS][LONG_COUNTERS];
        private final double[][] doubleSums = new double[WRITERS][DOUBLE_COUNTERS];
        private final long[][] sharedAckVersion = new long[WRITERS][SHARED_KEYS];
        private final long[][] sharedAckSequence = new long[WRITERS][SHARED_KEYS];
        private final long[] writerOps = new long[WRITERS];
        private final long[] readerOps = new long[READERS];
        private final AtomicLong retries = new AtomicLong();
        private volatile boolean stop;
        private volatile boolean writersDone;

        Run(long seed, int cleanerThreads, long opsPerWriter, long durationNs) {
            this.seed = seed;
            this.opsPerWriter = opsPerWriter;
            this.deadlineNs = System.nanoTime() + durationNs;
            for (int w = 0; w < WRITERS; w++) {
                own[w] = new OwnKeyLedger(OWN_KEYS);
                issued[w] = new AtomicLong();
            }
            this.engine = new ObjectManager(new EngineContext()
                    .memoryBytes(48L << 20)
                    .segmentSizeBytes(2 << 20)
                    .cleanerThreads(cleanerThreads)
                    .initialHashBuckets(16)
                    .conclude());
        }

        void execute() throws Exception {
            ExecutorService pool = Executors.newFixedThreadPool(WRITERS + READERS);
            long start = System.nanoTime();
            try {
                List<Future<?>> writers = new ArrayList<>();
                List<Future<?>> readers = new ArrayList<>();
                for (int w = 0; w < WRITERS; w++) {
                    int writer = w;
                    writers.add(pool.submit(() -> {
                        guarded(() -> writeLoop(writer));
                        return null;
                    }));
                }
                for (int r = 0; r < READERS; r++) {
                    int reader = r;
                    readers.add(pool.submit(() -> {
                        guarded(() -> readLoop(reader));
                        return null;
                    }));
                }
                List<Throwable> failures = new ArrayList<>();
                for (Future<?> writer : writers) {
                    awaitThread(writer, failures);
                }
                writersDone = true;
                for (Future<?> reader : readers) {
                    awaitThread(reader, failures);
                }
                if (!failures.isEmpty()) {
                    AssertionError first = failures.get(0) instanceof AssertionError assertion ? assertion
                            : new AssertionError(TestSeeds.describe(seed) + "a worker thread threw", failures.get(0));
                    for (Throwable other : failures.subList(1, failures.size())) {
                        first.addSuppressed(other);
                    }
                    throw first;
                }
                verifyFinalState();
                EngineStats stats = engine.stats();
                System.out.printf("concurrency run seed=%d cleanerThreads=%d: %d ms, writer ops %s, reader ops %s,"
                                + " retries %d, hash table grew %d times%n  %s%n", seed,
                        engine.context().cleanerThreads(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                        Arrays.toString(writerOps), Arrays.toString(readerOps), retries.get(),
                        engine.hashTable().resizes(), stats);
                check(stats.cleaner().compactions() + stats.cleaner().combinedPasses() > 0,
                        "the cleaner never ran: " + stats.cleaner());
                check(engine.hashTable().resizes() > 0, "the hash table never grew under the readers");
            } finally {
                stop = true;
                pool.shutdownNow();
                check(pool.awaitTermination(30, TimeUnit.SECONDS), "worker threads did not stop");
                engine.close();
            }
        }

        private interface Body {
            void run() throws Exception;
        }

        private void guarded(Body body) throws Exception {
            try {
                body.run();
            } catch (Throwable t) {
                stop = true;
                throw t;
            }
        }

        /** Waits for a worker; records its failure unless it only stopped because another one failed. */
        private void awaitThread(Future<?> future, List<Throwable> failures) throws InterruptedException {
            try {
                future.get(Math.max(1, deadlineNs - System.nanoTime()) + TimeUnit.SECONDS.toNanos(60),
                        TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof Stopped)) {
                    failures.add(e.getCause());
                }
            } catch (TimeoutException e) {
                stop = true;
                failures.add(new AssertionError(TestSeeds.describe(seed) + "a worker thread did not finish in time", e));
            }
        }

        /** Thrown by a worker that stops because another one failed. */
        private static final class Stopped extends RuntimeException {
            private static final long serialVersionUID = 1L;

            Stopped() {
                super("stopped after another worker failed", null, false, false);
            }
        }

        // ---- writers ----

        private void writeLoop(int writer) throws InterruptedException {
            Random random = new Random(seed * 31 + writer);
            ObjectResult out = new ObjectResult();
            long sequence = 0;
            long[] ownVersion = new long[OWN_KEYS];
            long[] lastLongSeen = new long[LONG_COUNTERS];
            double[] lastDoubleSeen = new double[DOUBLE_COUNTERS];
            long op = 0;
            for (; op < opsPerWriter && !stop && System.nanoTime() < deadlineNs; op++) {
                int choice = random.nextInt(100);
                if (choice < 55) {
                    int j = random.nextInt(OWN_KEYS);
                    long seq = ++sequence;
                    issued[writer].set(seq);
                    byte[] value = valueOf(writer, seq, j, ownValueSize(j));
                    byte[] key = ownKey(writer, j);
                    own[writer].writeStarted(j, seq);
                    Status status = withRetry(() -> engine.write(OWN_TABLE, key, value, RejectRules.NONE, out));
                    check(status == Status.OK, "writer " + writer + " write of own key " + j + ": " + status);
                    check(out.version() > ownVersion[j], "writer " + writer + " own key " + j + " got version "
                            + out.version() + " after " + ownVersion[j]);
                    ownVersion[j] = out.version();
                    own[writer].acknowledge(j, seq, false);
                } else if (choice < 63) {
                    int j = random.nextInt(OWN_KEYS);
                    long seq = ++sequence;
                    issued[writer].set(seq);
                    boolean present = OwnKeyLedger.present(own[writer].acknowledged(j));
                    byte[] key = ownKey(writer, j);
                    own[writer].removeStarted(j, seq);
                    Status status = withRetry(() -> engine.remove(OWN_TABLE, key, RejectRules.NONE, out));
                    check(status == (present ? Status.OK : Status.OBJECT_DOESNT_EXIST), "writer " + writer
                            + " remove of own key " + j + " (present: " + present + "): " + status);
                    if (present) {
                        check(out.version() == ownVersion[j], "writer " + writer + " removed own key " + j
                                + " at version " + out.version() + ", last written " + ownVersion[j]);
                        own[writer].acknowledge(j, seq, true);
                    }
                } else if (choice < 73) {
                    int j = random.nextInt(SHARED_KEYS);
                    long seq = ++sequence;
                    issued[writer].set(seq);
                    byte[] value = valueOf(writer, seq, j, sharedValueSize(j));
                    byte[] key = sharedKey(j);
                    Status status = withRetry(() -> engine.write(SHARED_TABLE, key, value, RejectRules.NONE, out));
                    check(status == Status.OK, "writer " + writer + " write of shared key " + j + ": " + status);
                    check(out.version() > sharedAckVersion[writer][j], "shared key " + j + " version went from "
                            + sharedAckVersion[writer][j] + " to " + out.version() + " for writer " + writer);
                    sharedAckVersion[writer][j] = out.version();
                    sharedAckSequence[writer][j] = seq;
                } else if (choice < 85) {
                    int c = random.nextInt(LONG_COUNTERS);
                    long delta = 1 + random.nextInt(1_000);
                    byte[] key = counterKey(c);
                    Status status = withRetry(() -> engine.incrementLong(COUNTER_TABLE, key, delta, RejectRules.NONE, out));
                    check(status == Status.OK, "writer " + writer + " increment of counter " + c + ": " + status);
                    longSums[writer][c] += delta;
                    check(out.longValue() > lastLongSeen[c] && out.longValue() >= longSums[writer][c],
                            "counter " + c + " incremented to " + out.longValue() + " after writer " + writer
                                    + " saw " + lastLongSeen[c] + " and added " + longSums[writer][c] + " itself");
                    lastLongSeen[c] = out.longValue();
                } else if (choice < 92) {
                    int c = random.nextInt(DOUBLE_COUNTERS);
                    double delta = 0.5 * (1 + random.nextInt(200));
                    byte[] key = counterKey(LONG_COUNTERS + c);
                    Status status = withRetry(() -> engine.incrementDouble(COUNTER_TABLE, key, delta, RejectRules.NONE, out));
                    check(status == Status.OK, "writer " + writer + " double increment of counter " + c + ": " + status);
                    doubleSums[writer][c] += delta;
                    check(out.doubleValue() > lastDoubleSeen[c], "double counter " + c + " went from "
                            + lastDoubleSeen[c] + " to " + out.doubleValue());
                    lastDoubleSeen[c] = out.doubleValue();
                } else {
                    int j = random.nextInt(OWN_KEYS);
                    Status status = engine.read(OWN_TABLE, ownKey(writer, j), out);
                    long current = own[writer].acknowledged(j);
                    if (!OwnKeyLedger.present(current)) {
                        check(status == Status.OBJECT_DOESNT_EXIST, "writer " + writer + " reads back its removed or"
                                + " never written key " + j + ": " + status);
                    } else {
                        check(status == Status.OK, "writer " + writer + " reads back own key " + j + ": " + status);
                        long seq = verifyValue(out, writer, j, ownValueSize(j));
                        check(seq == current >>> 1, "writer " + writer + " reads back own key " + j + " at sequence "
                                + seq + ", but its last acknowledged write was " + (current >>> 1));
                        check(out.version() == ownVersion[j], "writer " + writer + " reads back own key " + j
                                + " at version " + out.version() + ", acknowledged " + ownVersion[j]);
                    }
                }
            }
            writerOps[writer] = op;
        }

        private Status withRetry(Operation operation) throws InterruptedException {
            Status status = operation.apply();
            long start = System.nanoTime();
            while (status == Status.RETRY) {
                if (stop) {
                    throw new Stopped();
                }
                retries.incrementAndGet();
                check(System.nanoTime() - start < RETRY_LIMIT_NS, "still RETRY after 30 s; " + engine.stats());
                engine.awaitFreeMemory(TimeUnit.MILLISECONDS.toNanos(100));
                status = operation.apply();
            }
            return status;
        }

        // ---- readers ----

        private void readLoop(int reader) {
            Random random = new Random(seed * 31 + 1_000 + reader);
            ObjectResult out = new ObjectResult();
            long[][] ownVersionSeen = new long[WRITERS][OWN_KEYS];
            long[] sharedVersionSeen = new long[SHARED_KEYS];
            long[] longSeen = new long[LONG_COUNTERS];
            double[] doubleSeen = new double[DOUBLE_COUNTERS];
            long op = 0;
            while (!writersDone && !stop) {
                op++;
                int choice = random.nextInt(100);
                if (choice < 60) {
                    int w = random.nextInt(WRITERS);
                    int j = random.nextInt(OWN_KEYS);
                    long before = own[w].acknowledged(j);
                    Status status = engine.read(OWN_TABLE, ownKey(w, j), out);
                    if (status == Status.OK) {
                        long seq = verifyValue(out, w, j, ownValueSize(j));
                        long floor = before >>> 1;
                        boolean removedBefore = (before & 1) == 1;
                        check(removedBefore ? seq > floor : seq >= floor, "reader " + reader + " read own key " + j
                                + " of writer " + w + " at sequence " + seq + ", older than the acknowledged "
                                + (removedBefore ? "remove" : "write") + " at sequence " + floor);
                        check(seq <= issued[w].get(), "reader " + reader + " read sequence " + seq
                                + " that writer " + w + " never issued");
                        check(out.version() >= ownVersionSeen[w][j], "reader " + reader + " saw own key " + j
                                + " of writer " + w + " go back from version " + ownVersionSeen[w][j] + " to "
                                + out.version());
                        ownVersionSeen[w][j] = out.version();
                    } else {
                        check(status == Status.OBJECT_DOESNT_EXIST, "reader " + reader + " read: " + status);
                        if (!own[w].mayBeAbsent(j, before)) {
                            long lastRemove = own[w].lastRemoveStarted(j);
                            long lastStarted = own[w].lastStarted(j);
                            Status again = engine.read(OWN_TABLE, ownKey(w, j), out);
                            check(false, "reader " + reader + " found own key " + j + " of writer " + w
                                    + " missing, though its write at sequence " + (before >>> 1) + " was acknowledged"
                                    + " before the read and no remove had started by the end of it (last remove"
                                    + " started: " + lastRemove + ", last operation started: " + describe(lastStarted)
                                    + "); read again: " + again + ", now at " + describe(own[w].acknowledged(j))
                                    + "; " + engine.stats());
                        }
                    }
                } else if (choice < 85) {
                    int j = random.nextInt(SHARED_KEYS);
                    Status status = engine.read(SHARED_TABLE, sharedKey(j), out);
                    if (status == Status.OK) {
                        int w = out.valueBuffer()[0];
                        check(w >= 0 && w < WRITERS, "shared key " + j + " names writer " + w);
                        long seq = verifyValue(out, w, j, sharedValueSize(j));
                        check(seq <= issued[w].get(), "reader " + reader + " read shared sequence " + seq
                                + " that writer " + w + " never issued");
                        check(out.version() >= sharedVersionSeen[j], "reader " + reader + " saw shared key " + j
                                + " go back from version " + sharedVersionSeen[j] + " to " + out.version());
                        sharedVersionSeen[j] = out.version();
                    } else {
                        check(status == Status.OBJECT_DOESNT_EXIST && sharedVersionSeen[j] == 0, "reader " + reader
                                + " read shared key " + j + " (seen at version " + sharedVersionSeen[j] + "): " + status);
                    }
                } else {
                    int c = random.nextInt(LONG_COUNTERS + DOUBLE_COUNTERS);
                    Status status = engine.read(COUNTER_TABLE, counterKey(c), out);
                    if (status == Status.OK) {
                        check(out.valueLength() == 8, "counter " + c + " holds " + out.valueLength() + " bytes");
                        long bits = longAt(out.valueBuffer(), 0, 8);
                        if (c < LONG_COUNTERS) {
                            check(bits >= longSeen[c], "reader " + reader + " saw counter " + c + " go back from "
                                    + longSeen[c] + " to " + bits);
                            longSeen[c] = bits;
                        } else {
                            double value = Double.longBitsToDouble(bits);
                            int d = c - LONG_COUNTERS;
                            check(value >= doubleSeen[d], "reader " + reader + " saw double counter " + d
                                    + " go back from " + doubleSeen[d] + " to " + value);
                            doubleSeen[d] = value;
                        }
                    } else {
                        check(status == Status.OBJECT_DOESNT_EXIST, "reader " + reader + " read counter: " + status);
                    }
                }
            }
            readerOps[reader] = op;
        }

        /** Checks a value's header and every fill byte; returns its sequence number. */
        private long verifyValue(ObjectResult out, int writer, int keyIndex, int size) {
            byte[] buffer = out.valueBuffer();
            check(out.valueLength() == size, "value of key " + keyIndex + " (writer " + writer + ") has "
                    + out.valueLength() + " bytes, written with " + size);
            check(buffer[0] == writer, "value of key " + keyIndex + " names writer " + buffer[0] + ", expected " + writer);
            long seq = longAt(buffer, 1, 8);
            check(longAt(buffer, 9, 4) == keyIndex, "value of key " + keyIndex + " names key " + longAt(buffer, 9, 4));
            for (int i = HEADER_BYTES; i < size; i++) {
                if (buffer[i] != fill(writer, seq, i)) {
                    check(false, "value of key " + keyIndex + " (writer " + writer + ", sequence " + seq
                            + ") is damaged at byte " + i + " of " + size);
                }
            }
            return seq;
        }

        // ---- the end ----

        private void verifyFinalState() {
            ObjectResult out = new ObjectResult();
            long expectedObjects = 0;
            for (int w = 0; w < WRITERS; w++) {
                for (int j = 0; j < OWN_KEYS; j++) {
                    long current = own[w].acknowledged(j);
                    Status status = engine.read(OWN_TABLE, ownKey(w, j), out);
                    if (!OwnKeyLedger.present(current)) {
                        check(status == Status.OBJECT_DOESNT_EXIST, "final: own key " + j + " of writer " + w
                                + " should be absent: " + status);
                    } else {
                        expectedObjects++;
                        check(status == Status.OK, "final: own key " + j + " of writer " + w + ": " + status);
                        check(verifyValue(out, w, j, ownValueSize(j)) == current >>> 1, "final: own key " + j
                                + " of writer " + w + " is not at its last acknowledged sequence " + (current >>> 1));
                    }
                }
            }
            for (int j = 0; j < SHARED_KEYS; j++) {
                int lastWriter = -1;
                long lastVersion = 0;
                for (int w = 0; w < WRITERS; w++) {
                    if (sharedAckVersion[w][j] > lastVersion) {
                        lastVersion = sharedAckVersion[w][j];
                        lastWriter = w;
                    }
                }
                Status status = engine.read(SHARED_TABLE, sharedKey(j), out);
                if (lastWriter < 0) {
                    check(status == Status.OBJECT_DOESNT_EXIST, "final: shared key " + j + " was never written: " + status);
                    continue;
                }
                expectedObjects++;
                check(status == Status.OK && out.version() == lastVersion, "final: shared key " + j + " is at version "
                        + out.version() + " (" + status + "), the last acknowledged write was " + lastVersion);
                check(out.valueBuffer()[0] == lastWriter
                                && verifyValue(out, lastWriter, j, sharedValueSize(j)) == sharedAckSequence[lastWriter][j],
                        "final: shared key " + j + " does not hold writer " + lastWriter + "'s last write");
            }
            for (int c = 0; c < LONG_COUNTERS; c++) {
                long sum = 0;
                for (int w = 0; w < WRITERS; w++) {
                    sum += longSums[w][c];
                }
                Status status = engine.read(COUNTER_TABLE, counterKey(c), out);
                if (sum == 0) {
                    check(status == Status.OBJECT_DOESNT_EXIST, "final: counter " + c + " never incremented: " + status);
                    continue;
                }
                expectedObjects++;
                check(status == Status.OK && longAt(out.valueBuffer(), 0, 8) == sum, "final: counter " + c + " holds "
                        + longAt(out.valueBuffer(), 0, 8) + " (" + status + "), increments sum to " + sum);
            }
            for (int c = 0; c < DOUBLE_COUNTERS; c++) {
                double sum = 0;
                for (int w = 0; w < WRITERS; w++) {
                    sum += doubleSums[w][c];
                }
                Status status = engine.read(COUNTER_TABLE, counterKey(LONG_COUNTERS + c), out);
                if (sum == 0) {
                    check(status == Status.OBJECT_DOESNT_EXIST, "final: double counter " + c + ": " + status);
                    continue;
                }
                expectedObjects++;
                double value = Double.longBitsToDouble(longAt(out.valueBuffer(), 0, 8));
                check(status == Status.OK && value == sum, "final: double counter " + c + " holds " + value
                        + " (" + status + "), increments sum to " + sum);
            }
            check(engine.stats().liveObjects() == expectedObjects, "final: engine indexes "
                    + engine.stats().liveObjects() + " objects, expected " + expectedObjects);
            engine.cleaner().close();
            for (LogSegment segment : engine.log().segments()) {
                check(!segment.isBeingCleaned(), "after the cleaner stopped, " + segment
                        + " is still claimed: a cleaning pass failed part-way (see the log for 'cleaning pass failed')");
            }
            EngineStats stats = engine.stats();
            if (stats.cleaner().passesAborted() == 0) { // see LogCleanerAbortedPassTest for why
                assertThat(stats.tombstoneBytes()).as(TestSeeds.describe(seed) + "tombstone bytes").isNotNegative();
            }
        }

        private void check(boolean condition, String message) {
            if (!condition) {
                stop = true;
                throw new AssertionError(TestSeeds.describe(seed) + message);
            }
        }
    }
}
