package io.ferrite.master;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A read that finds a key gone while a remove of it and then a new write of it run: the read
 * may answer "doesn't exist" (it fell between the two), and a checker must not call that a lost
 * write because the last operation <em>started</em> on the key is the write.
 *
 * <p>{@code ObjectManagerConcurrencyTest}'s long run failed this way (seed 71953285121, writer 2,
 * key 1235): write 714143 acknowledged, the reader read its floor, remove 715811 ran, write
 * 716001 started (its value not yet in), the read answered "doesn't exist", and the checker,
 * looking only at the last operation started, reported a write lost by the engine. The
 * {@link OwnKeyLedger} keeps the last remove started apart; these tests hold it to that, and
 * stress the engine with few keys so removes and rewrites of one key race reads all the time.
 */
class ReadDuringRemoveAndRewriteTest {
    private static final long TABLE = 7;
    private ObjectManager engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private static byte[] key(int writer, int index) {
        return ("w" + writer + "-" + index).getBytes(StandardCharsets.UTF_8);
    }

    /** The failing interleaving, one step at a time on one thread. */
    @Test
    void absenceBetweenARemoveAndTheNextWriteIsAllowed() {
        engine = new ObjectManager(new EngineContext().memoryBytes(16L << 20).segmentSizeBytes(2 << 20)
                .cleanerThreads(0).conclude());
        OwnKeyLedger ledger = new OwnKeyLedger(1);
        ObjectResult out = new ObjectResult();
        byte[] key = key(0, 0);

        ledger.writeStarted(0, 1);
        assertThat(engine.write(TABLE, key, new byte[] {1}, RejectRules.NONE, out)).isEqualTo(Status.OK);
        ledger.acknowledge(0, 1, false);
        long before = ledger.acknowledged(0); // a reader begins here

        ledger.writeStarted(0, 2); // a rewrite that does not take the key away
        assertThat(engine.write(TABLE, key, new byte[] {2}, RejectRules.NONE, out)).isEqualTo(Status.OK);
        ledger.acknowledge(0, 2, false);
        assertThat(ledger.mayBeAbsent(0, before)).as("no remove started: absence would be a lost write").isFalse();

        ledger.removeStarted(0, 3);
        assertThat(engine.remove(TABLE, key, RejectRules.NONE, out)).isEqualTo(Status.OK);
        ledger.acknowledge(0, 3, true);
        ledger.writeStarted(0, 4); // started; its value is not in the engine yet
        assertThat(engine.read(TABLE, key, out)).isEqualTo(Status.OBJECT_DOESNT_EXIST);

        assertThat(ledger.lastStarted(0)).as("the last operation started is the write")
                .isEqualTo(OwnKeyLedger.state(4, false));
        assertThat(ledger.mayBeAbsent(0, before)).as("remove 3 started after the floor 1: absence is allowed").isTrue();
        assertThat(engine.write(TABLE, key, new byte[] {4}, RejectRules.NONE, out)).isEqualTo(Status.OK);
        ledger.acknowledge(0, 4, false);
        assertThat(ledger.mayBeAbsent(0, ledger.acknowledged(0))).as("a reader starting now must see write 4").isFalse();
    }

    /**
     * Writers remove and rewrite a few keys each as fast as they can, the cleaner copies and
     * compacts under memory pressure and the hash table grows and shrinks; readers check every
     * answer against the ledger: a value no older than the floor, and absence only after a remove.
     */
    @ParameterizedTest(name = "cleanerThreads={0}")
    @ValueSource(ints = {1, 2})
    void readersSeeAKeyAbsentOnlyAfterARemoveStarted(int cleanerThreads) throws Exception {
        long seed = TestSeeds.seed(0x5EAD_0000L + cleanerThreads);
        long ops = TestSeeds.longProperty("ferrite.readrace.ops", 8_000);
        new Stress(seed, cleanerThreads, ops, TimeUnit.SECONDS.toNanos(5)).run();
    }

    private static final class Stress {
        private static final int WRITERS = 3;
        private static final int READERS = 2;
        private static final int KEYS = 16;
        private static final int REMOVE_PERCENT = 30;
        /** Of the removes, how many are followed at once by a write of the same key (the failing pattern). */
        private static final int REWRITE_PERCENT = 50;
        private static final int HEADER_BYTES = 9; // writer (1) | sequence (8)

        private final long seed;
        private final long opsPerWriter;
        private final long durationNs;
        private final ObjectManager engine;
        private final OwnKeyLedger[] ledgers = new OwnKeyLedger[WRITERS];
        private final AtomicLong[] issued = new AtomicLong[WRITERS];
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicLong absentAfterRemove = new AtomicLong();
        private final AtomicLong absentWithRewriteStarted = new AtomicLong();
        private final AtomicLong reads = new AtomicLong();
        private final AtomicLong retries = new AtomicLong();

        /** {@code opsPerWriter} writes and removes each, unless {@code durationNs} passes first (a slow machine). */
        Stress(long seed, int cleanerThreads, long opsPerWriter, long durationNs) {
            this.seed = seed;
            this.opsPerWriter = opsPerWriter;
            this.durationNs = durationNs;
            for (int w = 0; w < WRITERS; w++) {
                ledgers[w] = new OwnKeyLedger(KEYS);
                issued[w] = new AtomicLong();
            }
            // Little memory and small segments: the cleaner starts after a few hundred writes.
            this.engine = new ObjectManager(new EngineContext()
                    .memoryBytes(8L << 20)
                    .segmentSizeBytes(1 << 20)
                    .maxValueBytes(16 << 10)
                    .cleanerThreads(cleanerThreads)
                    .initialHashBuckets(1)
                    .conclude());
        }

        /** 256 B to about 12 KiB, fixed per key: some entries straddle two seglets. */
        private static int valueSize(int index) {
            return 256 + (int) ((index * 2_654_435_761L) % 12_000);
        }

        private static byte fill(long sequence, int position) {
            return (byte) (sequence * 31 + position * 7);
        }

        void run() throws Exception {
            ExecutorService pool = Executors.newFixedThreadPool(WRITERS + READERS);
            long startNs = System.nanoTime();
            try {
                long deadlineNs = System.nanoTime() + durationNs;
                List<Future<?>> writers = new ArrayList<>();
                List<Future<?>> readers = new ArrayList<>();
                for (int w = 0; w < WRITERS; w++) {
                    int writer = w;
                    writers.add(pool.submit(() -> guarded(() -> writeLoop(writer, deadlineNs))));
                }
                for (int r = 0; r < READERS; r++) {
                    int reader = r;
                    readers.add(pool.submit(() -> guarded(() -> readLoop(reader))));
                }
                for (Future<?> writer : writers) {
                    join(writer, durationNs + TimeUnit.SECONDS.toNanos(60));
                }
                stop.set(true);
                for (Future<?> reader : readers) {
                    join(reader, TimeUnit.SECONDS.toNanos(60));
                }
                System.out.printf("read-during-remove seed=%d cleanerThreads=%d: %d ms, %d writes and removes (%d"
                                + " retries), %d reads; %d found a key absent after a remove began, %d of them with a"
                                + " rewrite already started; hash table resized %d times; %s%n", seed,
                        engine.context().cleanerThreads(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs),
                        operations(), retries.get(), reads.get(), absentAfterRemove.get(),
                        absentWithRewriteStarted.get(), engine.hashTable().resizes(), engine.stats().cleaner());
                assertThat(engine.stats().cleaner().compactions() + engine.stats().cleaner().combinedPasses())
                        .as(TestSeeds.describe(seed) + "cleaning passes").isPositive();
            } finally {
                stop.set(true);
                pool.shutdownNow();
                assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).as("workers stopped").isTrue();
                engine.close();
            }
        }

        /** Waits for a worker; its assertion, if it failed, is the test's failure. */
        private static void join(Future<?> worker, long timeoutNs) throws Exception {
            try {
                worker.get(timeoutNs, TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof AssertionError assertion) {
                    throw assertion;
                }
                throw e;
            }
        }

        private long operations() {
            long sum = 0;
            for (AtomicLong count : issued) {
                sum += count.get();
            }
            return sum;
        }

        private interface Body {
            void run() throws Exception;
        }

        private Void guarded(Body body) throws Exception {
            try {
                body.run();
                return null;
            } catch (Throwable t) {
                stop.set(true);
                throw t;
            }
        }

        private void writeLoop(int writer, long deadlineNs) throws InterruptedException {
            Random random = new Random(seed * 31 + writer);
            ObjectResult out = new ObjectResult();
            OwnKeyLedger ledger = ledgers[writer];
            long sequence = 0;
            int rewrite = -1;
            while (sequence < opsPerWriter && !stop.get() && System.nanoTime() < deadlineNs) {
                int j = rewrite >= 0 ? rewrite : random.nextInt(KEYS);
                long seq = ++sequence;
                issued[writer].set(seq);
                byte[] key = key(writer, j);
                boolean remove = rewrite < 0 && random.nextInt(100) < REMOVE_PERCENT;
                rewrite = remove && random.nextInt(100) < REWRITE_PERCENT ? j : -1;
                if (remove) {
                    boolean present = OwnKeyLedger.present(ledger.acknowledged(j));
                    ledger.removeStarted(j, seq);
                    Status status = engine.remove(TABLE, key, RejectRules.NONE, out);
                    while (status == Status.RETRY && !stop.get()) {
                        retries.incrementAndGet();
                        engine.awaitFreeMemory(TimeUnit.MILLISECONDS.toNanos(100));
                        status = engine.remove(TABLE, key, RejectRules.NONE, out);
                    }
                    check(status == (present ? Status.OK : Status.OBJECT_DOESNT_EXIST) || stop.get(),
                            "writer " + writer + " remove of key " + j + " (present: " + present + "): " + status);
                    if (status == Status.OK) {
                        ledger.acknowledge(j, seq, true);
                    }
                } else {
                    byte[] value = new byte[valueSize(j)];
                    value[0] = (byte) writer;
                    for (int i = 0; i < 8; i++) {
                        value[1 + i] = (byte) (seq >>> (8 * i));
                    }
                    for (int i = HEADER_BYTES; i < value.length; i++) {
                        value[i] = fill(seq, i);
                    }
                    ledger.writeStarted(j, seq);
                    Status status = engine.write(TABLE, key, value, RejectRules.NONE, out);
                    while (status == Status.RETRY && !stop.get()) {
                        retries.incrementAndGet();
                        engine.awaitFreeMemory(TimeUnit.MILLISECONDS.toNanos(100));
                        status = engine.write(TABLE, key, value, RejectRules.NONE, out);
                    }
                    check(status == Status.OK || stop.get(), "writer " + writer + " write of key " + j + ": " + status);
                    if (status == Status.OK) {
                        ledger.acknowledge(j, seq, false);
                    }
                }
            }
        }

        private void readLoop(int reader) {
            Random random = new Random(seed * 31 + 1_000 + reader);
            ObjectResult out = new ObjectResult();
            while (!stop.get()) {
                int w = random.nextInt(WRITERS);
                int j = random.nextInt(KEYS);
                OwnKeyLedger ledger = ledgers[w];
                long before = ledger.acknowledged(j);
                Status status = engine.read(TABLE, key(w, j), out);
                if ((reads.incrementAndGet() & 63) == 0) {
                    Thread.yield(); // on a loaded 2-core machine, spinning readers would starve the writers
                }
                // Messages are built only on failure: the readers must stay fast to race the writers.
                if (status == Status.OK) {
                    long seq = verifyValue(out, w, j);
                    long floor = OwnKeyLedger.sequenceOf(before);
                    if (OwnKeyLedger.present(before) ? seq < floor : seq <= floor) {
                        fail("reader " + reader + " read key " + j + " of writer " + w + " at sequence " + seq
                                + ", older than the acknowledged " + (OwnKeyLedger.present(before) ? "write" : "remove")
                                + " at sequence " + floor);
                    }
                    if (seq > issued[w].get()) {
                        fail("reader " + reader + " read sequence " + seq + " never issued by writer " + w);
                    }
                    continue;
                }
                if (status != Status.OBJECT_DOESNT_EXIST) {
                    fail("reader " + reader + " read: " + status);
                }
                if (!OwnKeyLedger.present(before)) {
                    continue;
                }
                long lastStarted = ledger.lastStarted(j);
                if (!ledger.mayBeAbsent(j, before)) {
                    fail("reader " + reader + " found key " + j + " of writer " + w + " missing, though its"
                            + " write at sequence " + OwnKeyLedger.sequenceOf(before) + " was acknowledged before the"
                            + " read and no remove of it has started since (last remove started: "
                            + ledger.lastRemoveStarted(j) + ", last operation started: sequence "
                            + OwnKeyLedger.sequenceOf(lastStarted) + ")");
                }
                absentAfterRemove.incrementAndGet();
                if ((lastStarted & 1) == 0) {
                    absentWithRewriteStarted.incrementAndGet();
                }
            }
        }

        private long verifyValue(ObjectResult out, int writer, int index) {
            byte[] buffer = out.valueBuffer();
            int length = out.valueLength();
            if (length != valueSize(index) || buffer[0] != writer) {
                fail("key " + index + " of writer " + writer + " has " + length + " bytes naming writer "
                        + buffer[0] + ", written with " + valueSize(index) + " bytes");
            }
            long seq = 0;
            for (int i = 0; i < 8; i++) {
                seq |= (buffer[1 + i] & 0xFFL) << (8 * i);
            }
            // Every 61st byte and the last: enough to see another entry's bytes (a reused seglet, the
            // wrong second seglet of a straddling entry) while keeping reads fast enough to race.
            for (int i = HEADER_BYTES; i < length; i += 61) {
                checkFill(buffer, seq, i, writer, index);
            }
            checkFill(buffer, seq, length - 1, writer, index);
            return seq;
        }

        private void checkFill(byte[] buffer, long seq, int position, int writer, int index) {
            if (buffer[position] != fill(seq, position)) {
                fail("key " + index + " of writer " + writer + " (sequence " + seq + ") is damaged at byte "
                        + position);
            }
        }

        private void check(boolean condition, String message) {
            if (!condition) {
                fail(message);
            }
        }

        private void fail(String message) {
            stop.set(true);
            throw new AssertionError(TestSeeds.describe(seed) + message);
        }
    }
}
