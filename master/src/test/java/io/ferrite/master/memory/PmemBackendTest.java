package io.ferrite.master.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ferrite.log.EntryType;
import io.ferrite.log.ObjectFlyweight;
import io.ferrite.log.SegmentCertificate;
import io.ferrite.log.SegmentIterator;
import io.ferrite.log.SegmentMemory;
import io.ferrite.log.TombstoneFlyweight;
import io.ferrite.log.ValidationResult;
import io.ferrite.master.EngineContext;
import io.ferrite.master.ObjectManager;
import io.ferrite.master.ObjectResult;
import io.ferrite.master.RejectRules;
import io.ferrite.master.Status;
import io.ferrite.master.TestSeeds;
import io.ferrite.master.log.LogSegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pmem backend: what the engine wrote is in the mapped file after it closes, laid out as
 * valid segments. The test remembers each segment's id, seglets and certificate, closes the
 * engine, maps the file again with {@link SegletPool#pmem} and rebuilds each segment from its
 * seglets: every one validates against its certificate, and replaying them (highest version
 * wins, tombstones kill what they name) gives exactly the latest values written.
 */
class PmemBackendTest {
    private static final long MEMORY_BYTES = 32L << 20;
    private static final long TABLE = 3;

    @TempDir
    Path directory;

    private record Recorded(long id, int[] seglets, SegmentCertificate certificate) {
    }

    /** The newest object and the newest tombstone seen for one key while replaying segments. */
    private static final class Replayed {
        long objectVersion;
        byte[] value;
        long tombstoneVersion;
    }

    private EngineContext context() {
        return new EngineContext()
                .backend(MemoryBackend.PMEM)
                .pmemDirectory(directory)
                .memoryBytes(MEMORY_BYTES)
                .segmentSizeBytes(1 << 20)
                .maxValueBytes(256 << 10)
                .cleanerThreads(0)
                .conclude();
    }

    private static byte[] key(int index) {
        return ("pmem-key-" + index).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void writtenObjectsAreInTheFileAsValidSegments() throws Exception {
        long seed = TestSeeds.seed(0x9E3E_0001L);
        String context = TestSeeds.describe(seed);
        Random random = new Random(seed);
        Map<Integer, byte[]> latest = new HashMap<>();
        Map<Integer, Long> latestVersion = new HashMap<>();
        Map<Integer, Long> removedVersion = new HashMap<>();
        List<Recorded> recorded = new ArrayList<>();
        int keys = 600;
        try (ObjectManager engine = new ObjectManager(context())) {
            assertThat(engine.log().pool().backend()).isEqualTo(MemoryBackend.PMEM);
            ObjectResult out = new ObjectResult();
            // About 3x the memory in total, so the log wraps and the test's own cleaning runs.
            long written = 0;
            while (written < 3 * MEMORY_BYTES) {
                int k = random.nextInt(keys);
                if (random.nextInt(10) == 0) {
                    Status status = removeOrClean(engine, k, out);
                    if (status == Status.OK) {
                        assertThat(out.version()).as(context + "removed version").isEqualTo(latestVersion.get(k));
                        removedVersion.put(k, out.version());
                        latest.remove(k);
                        latestVersion.remove(k);
                    } else {
                        assertThat(status).as(context + "remove of key " + k).isEqualTo(Status.OBJECT_DOESNT_EXIST);
                    }
                    continue;
                }
                byte[] value = new byte[random.nextInt(20) == 0 ? random.nextInt(200_000) : random.nextInt(2_000)];
                random.nextBytes(value);
                Status status;
                while ((status = engine.write(TABLE, key(k), value, RejectRules.NONE, out)) == Status.RETRY) {
                    assertThat(engine.cleaner().cleanOnce()).as(context + "RETRY and nothing to clean").isTrue();
                }
                assertThat(status).as(context + "write of key " + k).isEqualTo(Status.OK);
                latest.put(k, value);
                latestVersion.put(k, out.version());
                written += value.length;
            }
            assertThat(engine.stats().cleaner().segletsFreed()).as(context + "cleaning happened").isPositive();
            for (LogSegment segment : engine.log().segments()) {
                recorded.add(new Recorded(segment.id(), segment.segletIndices(), segment.writer().certificate()));
            }
        }

        assertThat(Files.size(directory.resolve(SegletPool.PMEM_FILE_NAME))).isEqualTo(MEMORY_BYTES);
        Map<String, Replayed> replayed = new HashMap<>();
        try (SegletPool pool = SegletPool.pmem(directory, MEMORY_BYTES)) {
            for (Recorded segment : recorded) {
                SegmentMemory memory = new SegmentMemory(segment.seglets().length, SegletPool.SEGLET_SIZE_BYTES);
                for (int index : segment.seglets()) {
                    memory.addSeglet(pool.seglet(index));
                }
                ValidationResult result = SegmentIterator.validate(memory, segment.id(), segment.certificate());
                assertThat(result).as(context + "segment " + segment.id() + " seglets " + Arrays.toString(segment.seglets()))
                        .isInstanceOf(ValidationResult.Valid.class);
                replay(memory, segment, replayed);
            }
        }

        for (int k = 0; k < keys; k++) {
            Replayed entry = replayed.get(new String(key(k), StandardCharsets.UTF_8));
            byte[] value = latest.get(k);
            if (value != null) {
                assertThat(entry).as(context + "key " + k + " is in the file").isNotNull();
                assertThat(entry.objectVersion).as(context + "newest version of key " + k + " in the file")
                        .isEqualTo(latestVersion.get(k));
                assertThat(entry.value).as(context + "value of key " + k).isEqualTo(value);
                assertThat(entry.tombstoneVersion).as(context + "tombstone of key " + k)
                        .isLessThan(entry.objectVersion);
            } else if (entry != null && entry.objectVersion != 0) {
                // A removed key's old object may still be in the log, but a tombstone must cover it.
                assertThat(entry.tombstoneVersion).as(context + "removed key " + k + " (object version "
                        + entry.objectVersion + ") has a tombstone").isGreaterThanOrEqualTo(entry.objectVersion);
                assertThat(removedVersion).as(context + "key " + k + " was removed").containsKey(k);
            }
        }
    }

    private static Status removeOrClean(ObjectManager engine, int k, ObjectResult out) {
        Status status;
        while ((status = engine.remove(TABLE, key(k), RejectRules.NONE, out)) == Status.RETRY) {
            assertThat(engine.cleaner().cleanOnce()).as("RETRY on remove and nothing to clean").isTrue();
        }
        return status;
    }

    private static void replay(SegmentMemory memory, Recorded segment, Map<String, Replayed> replayed) {
        SegmentIterator iterator = new SegmentIterator(true).reset(memory, segment.id(), segment.certificate());
        int step;
        while ((step = iterator.next()) == SegmentIterator.ENTRY) {
            if (iterator.type() == EntryType.OBJECT) {
                ObjectFlyweight object = iterator.object();
                assertThat(object.tableId()).isEqualTo(TABLE);
                Replayed entry = replayed.computeIfAbsent(new String(object.key(), StandardCharsets.UTF_8),
                        k -> new Replayed());
                if (object.version() > entry.objectVersion) {
                    entry.objectVersion = object.version();
                    entry.value = object.value();
                }
            } else if (iterator.type() == EntryType.TOMBSTONE) {
                TombstoneFlyweight tombstone = iterator.tombstone();
                Replayed entry = replayed.computeIfAbsent(new String(tombstone.key(), StandardCharsets.UTF_8),
                        k -> new Replayed());
                entry.tombstoneVersion = Math.max(entry.tombstoneVersion, tombstone.objectVersion());
            }
        }
        assertThat(step).as("segment " + segment.id() + ": " + iterator.corruption()).isEqualTo(SegmentIterator.END);
    }

    @Test
    void aFileOfAnotherSizeIsRejectedWithAClearMessage() throws Exception {
        try (ObjectManager engine = new ObjectManager(context())) {
            assertThat(engine.write(TABLE, key(1), new byte[] {1, 2, 3}, RejectRules.NONE, new ObjectResult()))
                    .isEqualTo(Status.OK);
        }
        Path file = directory.resolve(SegletPool.PMEM_FILE_NAME);
        assertThatThrownBy(() -> SegletPool.pmem(directory, 2 * MEMORY_BYTES))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining(MEMORY_BYTES + " bytes")
                .hasMessageContaining(2 * MEMORY_BYTES + " bytes");
        EngineContext bigger = new EngineContext().backend(MemoryBackend.PMEM).pmemDirectory(directory)
                .memoryBytes(MEMORY_BYTES + (4L << 20)).segmentSizeBytes(1 << 20).maxValueBytes(256 << 10)
                .cleanerThreads(0).conclude();
        assertThatThrownBy(() -> new ObjectManager(bigger))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has " + MEMORY_BYTES + " bytes but the configured memory is "
                        + (MEMORY_BYTES + (4L << 20)) + " bytes");
        assertThat(Files.size(file)).as("the rejected open leaves the file alone").isEqualTo(MEMORY_BYTES);
        try (SegletPool same = SegletPool.pmem(directory, MEMORY_BYTES)) {
            assertThat(same.totalSeglets()).isEqualTo((int) (MEMORY_BYTES / SegletPool.SEGLET_SIZE_BYTES));
        }
    }
}
