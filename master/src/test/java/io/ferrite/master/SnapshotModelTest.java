package io.ferrite.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ferrite.log.EntryType;
import io.ferrite.log.ObjectFlyweight;
import io.ferrite.log.SegmentIterator;
import io.ferrite.master.log.LogSegment;
import io.ferrite.master.snapshot.Snapshot;
import io.ferrite.proto.KeyHash;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Model-based randomized test of snapshots on one {@link ObjectManager} against an oracle that
 * copies the whole table at each snapshot: random writes, removes, snapshots, snapshot drops and
 * table drops over two tables, with memory kept near full so the cleaner compacts and combines
 * segments that hold kept objects. Every snapshot read, and periodically every snapshot's full
 * enumeration (in batches, resumed by cursor), must match the oracle's copy; with
 * {@code cleanerThreads=0} the run is deterministic and every segment's live bytes are checked
 * against what the index and the snapshot history still reference.
 *
 * <p>Replay a failure with {@code -Dferrite.seed=<seed>}.
 */
class SnapshotModelTest {
    private static final long[] TABLES = {7, 8};
    private static final long[] ALL_START = {0};
    private static final long[] ALL_END = {-1L};

    @ParameterizedTest(name = "cleanerThreads={0}")
    @ValueSource(ints = {0, 2})
    void snapshotsMatchOracleWhileTheCleanerRuns(int cleanerThreads) throws Exception {
        long seed = TestSeeds.seed(0x5AA9_0000L + cleanerThreads);
        new Run(seed, cleanerThreads, TestSeeds.longProperty("ferrite.snapshot.ops", 150_000)).execute();
    }

    /** A snapshot is a cut: taken, it sees nothing later; dropped, it frees what only it kept. */
    @Test
    void cutSeesNothingLaterAndDropReleasesKeptObjects() {
        try (ObjectManager engine = new ObjectManager(new EngineContext().memoryBytes(16L << 20)
                .segmentSizeBytes(2 << 20).cleanerThreads(0).conclude())) {
            ObjectResult out = new ObjectResult();
            byte[] a = bytes("a");
            byte[] b = bytes("b");
            assertEquals(Status.OK, engine.write(1, a, bytes("a1"), RejectRules.NONE, out));
            assertEquals(Status.OK, engine.write(1, b, bytes("b1"), RejectRules.NONE, out));
            engine.takeSnapshot(1, 100, ALL_START, ALL_END, out);
            assertEquals(Status.OK, engine.write(1, a, bytes("a2"), RejectRules.NONE, out));
            assertEquals(Status.OK, engine.remove(1, b, RejectRules.NONE, out));
            assertEquals(Status.OK, engine.write(1, bytes("c"), bytes("c1"), RejectRules.NONE, out));

            assertEquals(Status.OK, engine.readSnapshot(1, 100, a, out));
            assertEquals("a1", new String(out.valueCopy(), StandardCharsets.UTF_8));
            assertEquals(Status.OK, engine.readSnapshot(1, 100, b, out));
            assertEquals("b1", new String(out.valueCopy(), StandardCharsets.UTF_8));
            assertEquals(Status.OBJECT_DOESNT_EXIST, engine.readSnapshot(1, 100, bytes("c"), out));
            assertEquals(Status.SNAPSHOT_DOESNT_EXIST, engine.readSnapshot(1, 101, a, out));
            assertEquals(Status.SNAPSHOT_DOESNT_EXIST, engine.readSnapshot(2, 100, a, out));
            assertEquals(2, engine.snapshotStats().keptObjects());

            assertTrue(engine.dropSnapshot(1, 100));
            assertEquals(0, engine.snapshotStats().keptObjects());
            assertEquals(0, engine.snapshotStats().keptBytes());
            for (LogSegment segment : engine.log().segments()) {
                assertEquals(0, segment.snapshotPins(), segment.toString());
            }
            assertEquals(Status.SNAPSHOT_DOESNT_EXIST, engine.readSnapshot(1, 100, a, out));
            assertTrue(!engine.dropSnapshot(1, 100), "a second drop finds nothing");
        }
    }

    /** A snapshot taken right after a remove does not see the removed object (the cut consumed a version). */
    @Test
    void removeJustBeforeASnapshotIsOutOfIt() {
        try (ObjectManager engine = new ObjectManager(new EngineContext().memoryBytes(16L << 20)
                .segmentSizeBytes(2 << 20).cleanerThreads(0).conclude())) {
            ObjectResult out = new ObjectResult();
            byte[] a = bytes("a");
            engine.write(1, a, bytes("a1"), RejectRules.NONE, out);
            engine.takeSnapshot(1, 1, ALL_START, ALL_END, out);
            engine.remove(1, a, RejectRules.NONE, out);
            engine.takeSnapshot(1, 2, ALL_START, ALL_END, out);
            engine.write(1, a, bytes("a3"), RejectRules.NONE, out);
            engine.takeSnapshot(1, 3, ALL_START, ALL_END, out);
            assertEquals(Status.OK, engine.readSnapshot(1, 1, a, out));
            assertEquals("a1", new String(out.valueCopy(), StandardCharsets.UTF_8));
            assertEquals(Status.OBJECT_DOESNT_EXIST, engine.readSnapshot(1, 2, a, out));
            assertEquals(Status.OK, engine.readSnapshot(1, 3, a, out));
            assertEquals("a3", new String(out.valueCopy(), StandardCharsets.UTF_8));
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static final class Run {
        private final long seed;
        private final Random random;
        private final boolean driveCleaner;
        private final long maxOps;
        private final ObjectManager engine;
        private final int keys = 2_500;
        private final byte[][] keyBytes = new byte[keys][];
        /** Live contents per table position; a dropped table is replaced by a fresh id. */
        private final long[] tableIds = TABLES.clone();
        private final List<Map<Integer, byte[]>> live = new ArrayList<>();
        /** Snapshots held, oldest first: table id, snapshot id, and the table's contents then. */
        private final Deque<Held> held = new ArrayDeque<>();
        private final ObjectResult out = new ObjectResult();
        private long nextSnapshotId = 1;
        private long nextTableId = 100;
        private long op;
        private long snapshotsTaken;
        private long snapshotReads;
        private long enumerations;
        private long retries;

        private record Held(long tableId, long snapshotId, Map<Integer, byte[]> contents) {
        }

        Run(long seed, int cleanerThreads, long maxOps) {
            this.seed = seed;
            this.random = new Random(seed);
            this.driveCleaner = cleanerThreads == 0;
            this.maxOps = maxOps;
            for (int i = 0; i < keys; i++) {
                keyBytes[i] = bytes("key-" + i);
            }
            for (int t = 0; t < TABLES.length; t++) {
                live.add(new HashMap<>());
            }
            this.engine = new ObjectManager(new EngineContext().memoryBytes(12L << 20).segmentSizeBytes(2 << 20)
                    .cleanerThreads(cleanerThreads).initialHashBuckets(64).conclude());
        }

        void execute() throws Exception {
            try {
                for (op = 0; op < maxOps; op++) {
                    step();
                }
                verifyAll();
                while (!held.isEmpty()) {
                    drop(held.pollFirst());
                }
                assertEquals(0, engine.snapshotStats().keptObjects(), context("kept objects after every drop"));
                for (LogSegment segment : engine.log().segments()) {
                    assertEquals(0, segment.snapshotPins(), context("pins after every drop: " + segment));
                }
                if (driveCleaner) {
                    checkSegmentLiveBytes();
                }
                var stats = engine.stats().cleaner();
                System.out.printf("snapshot model seed=%d ops=%d snapshots=%d snapshotReads=%d enumerations=%d retries=%d"
                                + " compactions=%d combinedPasses=%d aborted=%d%n", seed, op, snapshotsTaken, snapshotReads,
                        enumerations, retries, stats.compactions(), stats.combinedPasses(), stats.passesAborted());
                assertTrue(stats.compactions() + stats.combinedPasses() > 0, context("the cleaner never ran"));
            } finally {
                engine.close();
            }
        }

        private void step() throws Exception {
            int roll = random.nextInt(1000);
            int t = random.nextInt(TABLES.length);
            if (roll < 560) {
                write(t, random.nextInt(keys));
            } else if (roll < 700) {
                remove(t, random.nextInt(keys));
            } else if (roll < 940) {
                if (!held.isEmpty()) {
                    readSnapshot(randomHeld(), random.nextInt(keys));
                }
            } else if (roll < 960) {
                if (held.size() < 6) {
                    snapshot(t);
                }
            } else if (roll < 975) {
                if (!held.isEmpty()) {
                    Held victim = randomHeld();
                    held.remove(victim);
                    drop(victim);
                }
            } else if (roll < 978) {
                if (!held.isEmpty()) {
                    enumerateAndCompare(randomHeld());
                }
            } else if (roll < 979) {
                dropTable(t);
            }
            if (driveCleaner && op % 50 == 0) {
                engine.cleaner().cleanOnce();
            }
            if (driveCleaner && op % 5_000 == 0) {
                checkSegmentLiveBytes();
            }
        }

        private Held randomHeld() {
            int index = random.nextInt(held.size());
            return held.stream().skip(index).findFirst().orElseThrow();
        }

        private void write(int t, int k) throws Exception {
            byte[] value = new byte[random.nextInt(4) == 0 ? 1_000 + random.nextInt(6_000) : random.nextInt(300)];
            random.nextBytes(value);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (;;) {
                Status status = engine.write(tableIds[t], keyBytes[k], value, RejectRules.NONE, out);
                if (status == Status.OK) {
                    live.get(t).put(k, value);
                    return;
                }
                assertEquals(Status.RETRY, status, context("write"));
                retries++;
                // Memory full: snapshots hold it; give the oldest back, then let the cleaner work.
                if (!held.isEmpty() && random.nextBoolean()) {
                    drop(held.pollFirst());
                }
                if (driveCleaner) {
                    engine.cleaner().cleanOnce();
                } else {
                    engine.awaitFreeMemory(TimeUnit.MILLISECONDS.toNanos(50));
                }
                if (System.nanoTime() > deadline) {
                    fail(context("write got RETRY for 30 s; kept " + engine.snapshotStats() + ", " + engine.stats()));
                }
            }
        }

        private void remove(int t, int k) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (;;) {
                Status status = engine.remove(tableIds[t], keyBytes[k], RejectRules.NONE, out);
                if (status == Status.RETRY) {
                    retries++;
                    if (driveCleaner) {
                        engine.cleaner().cleanOnce();
                    } else {
                        engine.awaitFreeMemory(TimeUnit.MILLISECONDS.toNanos(50));
                    }
                    if (System.nanoTime() > deadline) {
                        fail(context("remove got RETRY for 30 s"));
                    }
                    continue;
                }
                byte[] had = live.get(t).remove(k);
                assertEquals(had == null ? Status.OBJECT_DOESNT_EXIST : Status.OK, status, context("remove"));
                return;
            }
        }

        private void snapshot(int t) {
            long id = nextSnapshotId++;
            Snapshot snapshot = engine.takeSnapshot(tableIds[t], id, ALL_START, ALL_END, out);
            assertEquals(id, snapshot.snapshotId());
            held.addLast(new Held(tableIds[t], id, new HashMap<>(live.get(t))));
            snapshotsTaken++;
        }

        private void drop(Held victim) {
            assertTrue(engine.dropSnapshot(victim.tableId(), victim.snapshotId()), context("drop " + victim.snapshotId()));
        }

        private void dropTable(int t) {
            engine.dropTable(tableIds[t]);
            live.get(t).clear();
            tableIds[t] = nextTableId++;
        }

        private void readSnapshot(Held snapshot, int k) {
            Status status = engine.readSnapshot(snapshot.tableId(), snapshot.snapshotId(), keyBytes[k], out);
            byte[] expected = snapshot.contents().get(k);
            snapshotReads++;
            if (expected == null) {
                assertEquals(Status.OBJECT_DOESNT_EXIST, status, context("snapshot " + snapshot.snapshotId() + " key " + k));
            } else {
                assertEquals(Status.OK, status, context("snapshot " + snapshot.snapshotId() + " key " + k));
                assertTrue(Arrays.equals(expected, out.valueCopy()), context("snapshot " + snapshot.snapshotId() + " key " + k
                        + ": value differs"));
            }
        }

        private void enumerateAndCompare(Held snapshot) {
            Map<String, byte[]> seen = new HashMap<>();
            long[] afterHash = {0};
            byte[][] afterKey = {null};
            int batch = 1 + random.nextInt(200);
            for (;;) {
                int visited = engine.enumerateSnapshot(snapshot.tableId(), snapshot.snapshotId(), afterHash[0], afterKey[0],
                        batch, (key, value, version, ts, hash) -> {
                            String name = new String(key, StandardCharsets.UTF_8);
                            if (seen.put(name, value) != null) {
                                fail(context("enumeration of snapshot " + snapshot.snapshotId() + " saw " + name + " twice"));
                            }
                            afterHash[0] = hash;
                            afterKey[0] = key;
                        });
                assertTrue(visited >= 0, context("snapshot not held"));
                if (visited < batch) {
                    break;
                }
            }
            assertEquals(snapshot.contents().size(), seen.size(), context("enumerated objects of snapshot "
                    + snapshot.snapshotId()));
            for (Map.Entry<Integer, byte[]> entry : snapshot.contents().entrySet()) {
                assertTrue(Arrays.equals(entry.getValue(), seen.get("key-" + entry.getKey())),
                        context("enumerated value of key " + entry.getKey()));
            }
            enumerations++;
        }

        private void verifyAll() {
            for (Held snapshot : held) {
                for (int k = 0; k < keys; k++) {
                    readSnapshot(snapshot, k);
                }
                enumerateAndCompare(snapshot);
            }
            for (int t = 0; t < TABLES.length; t++) {
                for (int k = 0; k < keys; k++) {
                    Status status = engine.read(tableIds[t], keyBytes[k], out);
                    byte[] expected = live.get(t).get(k);
                    assertEquals(expected == null ? Status.OBJECT_DOESNT_EXIST : Status.OK, status, context("live read"));
                    if (expected != null) {
                        assertTrue(Arrays.equals(expected, out.valueCopy()), context("live value of key " + k));
                    }
                }
            }
        }

        /** Each segment's live bytes: its tombstones, what the index points at, and what snapshots keep. */
        private void checkSegmentLiveBytes() {
            SegmentIterator iterator = new SegmentIterator(false);
            for (LogSegment segment : engine.log().segments()) {
                iterator.resetTrusted(segment.memory(), segment.id(), segment.lengthBytes());
                long liveBytes = 0;
                int pins = 0;
                while (iterator.next() == SegmentIterator.ENTRY) {
                    if (iterator.type() == EntryType.TOMBSTONE) {
                        liveBytes += iterator.framedLength();
                    } else if (iterator.type() == EntryType.OBJECT) {
                        ObjectFlyweight object = iterator.object();
                        long hash = ObjectManager.indexHash(object.tableId(), KeyHash.hash(object.key()));
                        long reference = engine.log().reference(segment, iterator.entryOffset());
                        if (engine.hashTable().contains(hash, reference)) {
                            liveBytes += iterator.framedLength();
                        } else if (engine.snapshotHistory().keeps(reference)) {
                            liveBytes += iterator.framedLength();
                            pins++;
                        }
                    }
                }
                assertEquals(liveBytes, segment.liveBytes(), context(segment + " live bytes"));
                assertEquals(pins, segment.snapshotPins(), context(segment + " pins"));
            }
        }

        private String context(String what) {
            return TestSeeds.describe(seed) + "op " + op + ": " + what;
        }
    }
}
