package io.ferrite.master;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Memory exhaustion and tombstones, with no cleaner threads: the test runs
 * {@link io.ferrite.master.cleaner.LogCleaner#cleanOnce()} itself, so every run is the same.
 */
class ObjectManagerMemoryTest {
    private static final long TABLE = 4;
    private ObjectManager engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private static EngineContext context() {
        return new EngineContext().memoryBytes(16L << 20).segmentSizeBytes(512 << 10).maxValueBytes(64 << 10)
                .cleanerThreads(0);
    }

    private static byte[] key(int i) {
        return ("object-" + i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(Random random, int size) {
        byte[] value = new byte[size];
        random.nextBytes(value);
        return value;
    }

    /** Runs {@code cleanOnce} until a remove gets through; fails if cleaning can do nothing. */
    private Status removeCleaningAsNeeded(int k, ObjectResult out, String context) {
        Status status;
        while ((status = engine.remove(TABLE, key(k), RejectRules.NONE, out)) == Status.RETRY) {
            assertThat(engine.cleaner().cleanOnce()).as(context + "remove of key " + k
                    + " gets RETRY and cleanOnce() has nothing to do; " + engine.stats()).isTrue();
        }
        return status;
    }

    /** Writes unique 1 KB objects until the engine says RETRY; returns how many went in. */
    private int fillWithUniqueObjects(Random random, List<byte[]> values, String context) {
        ObjectResult out = new ObjectResult();
        long maxObjects = 2 * engine.context().memoryBytes() / 1_000;
        for (int written = 0; written < maxObjects; written++) {
            byte[] value = value(random, 900 + random.nextInt(200));
            Status status = engine.write(TABLE, key(written), value, RejectRules.NONE, out);
            if (status != Status.OK) {
                assertThat(status).as(context + "after " + written + " unique objects").isEqualTo(Status.RETRY);
                return written;
            }
            values.add(value);
        }
        throw new AssertionError(context + "memory never filled up after " + maxObjects + " objects; " + engine.stats());
    }

    @Test
    void fullMemoryAnswersRetryAndStillServesReads() {
        long seed = TestSeeds.seed(0x3E30_0001L);
        String context = TestSeeds.describe(seed);
        Random random = new Random(seed);
        engine = new ObjectManager(context().conclude());
        ObjectResult out = new ObjectResult();
        List<byte[]> values = new ArrayList<>();
        int written = fillWithUniqueObjects(random, values, context);
        EngineStats full = engine.stats();
        assertThat(full.segletsHeld()).as(context + "memory is really full: " + full)
                .isGreaterThanOrEqualTo(full.segletsTotal() - engine.context().writerFloorSeglets() - 1);
        long safeVersion = engine.safeVersion();
        for (int attempt = 0; attempt < 3; attempt++) {
            assertThat(engine.write(TABLE, key(written), values.get(0), RejectRules.NONE, out)).isEqualTo(Status.RETRY);
        }
        assertThat(engine.read(TABLE, key(written), out)).as("a refused write wrote nothing")
                .isEqualTo(Status.OBJECT_DOESNT_EXIST);
        assertThat(engine.safeVersion()).as("a refused write used no version").isEqualTo(safeVersion);
        assertThat(engine.stats().liveObjects()).isEqualTo(written);
        assertThat(engine.cleaner().cleanOnce()).as(context + "nothing is dead, so nothing to clean").isFalse();
        // Conditional operations that are refused need no memory.
        assertThat(engine.write(TABLE, key(0), values.get(1), RejectRules.IF_ABSENT, out)).isEqualTo(Status.OBJECT_EXISTS);
        assertThat(engine.remove(TABLE, key(written), RejectRules.NONE, out)).isEqualTo(Status.OBJECT_DOESNT_EXIST);
        for (int i = 0; i < written; i++) {
            assertThat(engine.read(TABLE, key(i), out)).as(context + "read of key " + i + " when full").isEqualTo(Status.OK);
            assertThat(out.valueCopy()).isEqualTo(values.get(i));
        }
    }

    /**
     * Fails today: once memory is full of live objects, a remove needs head space for its
     * tombstone, which it may only take above the writer floor, and nothing is dead for the
     * cleaner to reclaim; after the tombstones that fit in the head's last seglet (two here),
     * every remove gets RETRY and the master can never free memory again.
     */
    @Test
    void removesAndCleaningLetWritesInAgainAfterMemoryFillsUp() {
        long seed = TestSeeds.seed(0x3E30_0001L);
        String context = TestSeeds.describe(seed);
        Random random = new Random(seed);
        engine = new ObjectManager(context().conclude());
        ObjectResult out = new ObjectResult();
        List<byte[]> values = new ArrayList<>();
        int written = fillWithUniqueObjects(random, values, context);

        // Remove a third of the objects, cleaning whenever a tombstone does not fit.
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < written; i++) {
            order.add(i);
        }
        Collections.shuffle(order, random);
        Set<Integer> removed = new HashSet<>(order.subList(0, written / 3));
        for (int k : order.subList(0, written / 3)) {
            assertThat(removeCleaningAsNeeded(k, out, context)).as(context + "remove of key " + k).isEqualTo(Status.OK);
        }
        int cleaned = 0;
        while (engine.cleaner().cleanOnce()) {
            cleaned++;
        }
        // New objects fit again: at least half as many as were removed.
        for (int more = 0; more < removed.size() / 2; more++) {
            assertThat(writeCleaningAsNeeded(written + more, values.get(more), out, context))
                    .as(context + "write " + more + " after the removes").isEqualTo(Status.OK);
        }
        for (int i = 0; i < written; i++) {
            Status expected = removed.contains(i) ? Status.OBJECT_DOESNT_EXIST : Status.OK;
            assertThat(engine.read(TABLE, key(i), out)).as(context + "final read of key " + i).isEqualTo(expected);
        }
        System.out.printf("memory full after %d objects; %d cleaning passes after removing %d; %s%n", written, cleaned,
                removed.size(), engine.stats());
    }

    @Test
    void droppedTombstonesLeaveRemovedKeysRemoved() {
        long seed = TestSeeds.seed(0x3E30_0002L);
        String context = TestSeeds.describe(seed);
        Random random = new Random(seed);
        engine = new ObjectManager(context().conclude());
        ObjectResult out = new ObjectResult();
        int objects = 4_000;
        for (int i = 0; i < objects; i++) {
            assertThat(engine.write(TABLE, key(i), value(random, 1_000), RejectRules.NONE, out)).isEqualTo(Status.OK);
        }
        long lastVersion = out.version();
        for (int i = 0; i < objects; i++) {
            if (i % 4 != 0) {
                assertThat(removeCleaningAsNeeded(i, out, context)).isEqualTo(Status.OK);
            }
        }
        assertThat(engine.stats().tombstoneBytes()).isPositive();
        // Clean until the segments the tombstones name are gone and the tombstones themselves are dropped.
        int passes = 0;
        while (engine.stats().cleaner().tombstonesDropped() == 0 && passes < 1_000) {
            if (!engine.cleaner().cleanOnce()) {
                // Nothing under pressure: churn the surviving objects so the old segments empty out.
                for (int i = 0; i < objects; i += 4) {
                    assertThat(writeCleaningAsNeeded(i, value(random, 1_000), out, context)).isEqualTo(Status.OK);
                }
            }
            passes++;
        }
        EngineStats stats = engine.stats();
        assertThat(stats.cleaner().tombstonesDropped()).as(context + "tombstones dropped; " + stats).isPositive();
        assertThat(stats.tombstoneBytes()).as(context + "tombstone bytes; " + stats).isNotNegative();
        for (int i = 0; i < objects; i++) {
            Status status = engine.read(TABLE, key(i), out);
            if (i % 4 != 0) {
                assertThat(status).as(context + "removed key " + i + " after its tombstone may be gone").isEqualTo(
                        Status.OBJECT_DOESNT_EXIST);
            } else {
                assertThat(status).as(context + "kept key " + i).isEqualTo(Status.OK);
            }
        }
        // A removed key comes back only when written again, at a version above everything before.
        assertThat(writeCleaningAsNeeded(1, new byte[] {7}, out, context)).isEqualTo(Status.OK);
        assertThat(out.version()).isGreaterThan(lastVersion);
        System.out.printf("tombstones dropped after %d passes: %s%n", passes, stats);
    }

    private Status writeCleaningAsNeeded(int k, byte[] value, ObjectResult out, String context) {
        Status status;
        while ((status = engine.write(TABLE, key(k), value, RejectRules.NONE, out)) == Status.RETRY) {
            assertThat(engine.cleaner().cleanOnce()).as(context + "write of key " + k
                    + " gets RETRY and cleanOnce() has nothing to do; " + engine.stats()).isTrue();
        }
        return status;
    }
}
