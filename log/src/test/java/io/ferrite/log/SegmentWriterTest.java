package io.ferrite.log;

import static io.ferrite.log.TestSegments.SEGLET_BYTES;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SegmentWriterTest {
    private static final int SEGMENT_BYTES = 16 * 1024 * 1024;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1L, 42L, 0x5EED_F00DL, -7L})
    void everyFieldOfEveryEntryReadsBackAsWritten(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        try (Arena arena = Arena.ofConfined()) {
            SegmentWriter writer = TestSegments.writer(arena, SEGLET_BYTES, SEGMENT_BYTES);
            List<LogEntry> entries = new ArrayList<>(TestSegments.openingEntries(random, 77L, SEGMENT_BYTES));
            for (int i = 0; i < 60; i++) {
                entries.add(TestSegments.randomBodyEntry(random, 300, 200 * 1024));
            }
            TestSegments.Written written = TestSegments.write(writer, entries);

            assertThat(written.memory().segletCount()).as("seed %d", seed).isGreaterThan(1);
            assertThat(straddlingEntries(written)).as("seed %d: entries across a seglet boundary", seed).isPositive();
            TestSegments.Scan scan = TestSegments.scan(
                    new SegmentIterator().reset(written.memory(), 77L, written.certificate()),
                    written.certificate().lengthBytes());
            assertThat(scan.result()).as("seed %d: %s", seed, scan.corruption()).isEqualTo(SegmentIterator.END);
            assertThat(scan.entries()).as("seed %d", seed).containsExactlyElementsOf(entries);
            assertThat(SegmentIterator.validate(written.memory(), 77L, written.certificate()))
                    .isEqualTo(new ValidationResult.Valid(entries.size()));
        }
    }

    @Test
    void iteratorReportsTypeOffsetsAndLengthsOfEachEntry() {
        SplittableRandom random = new SplittableRandom(3);
        try (Arena arena = Arena.ofConfined()) {
            List<LogEntry> entries = new ArrayList<>(TestSegments.openingEntries(random, 5L, SEGMENT_BYTES));
            for (int i = 0; i < 20; i++) {
                entries.add(TestSegments.randomBodyEntry(random, 300, 100 * 1024));
            }
            TestSegments.Written written = TestSegments.write(TestSegments.writer(arena, SEGLET_BYTES, SEGMENT_BYTES), entries);

            SegmentIterator iterator = new SegmentIterator().reset(written.memory(), 5L, written.certificate());
            for (int i = 0; i < entries.size(); i++) {
                assertThat(iterator.next()).isEqualTo(SegmentIterator.ENTRY);
                assertThat(iterator.entryOffset()).isEqualTo(written.offsets()[i]);
                assertThat(iterator.framedLength()).isEqualTo(written.framedLength(i));
                int payloadLength = iterator.payloadLength();
                assertThat(EntryDescriptor.framedLength(payloadLength)).isEqualTo(iterator.framedLength());
                assertThat(iterator.payloadOffset() + payloadLength)
                        .isEqualTo(iterator.entryOffset() + iterator.framedLength());
                assertThat(iterator.type()).isEqualTo(typeOf(entries.get(i)));
            }
            assertThat(iterator.next()).isEqualTo(SegmentIterator.END);
            assertThat(iterator.type()).isNull();
            assertThat(iterator.corruption()).isNull();
        }
    }

    @Test
    void objectFieldsAreReadInPlaceThroughTheFlyweight() {
        try (Arena arena = Arena.ofConfined()) {
            SegmentWriter writer = TestSegments.writer(arena, 1024, 64 * 1024);
            writer.appendSegmentHeader(1, 2, 64 * 1024);
            byte[] key = "a key that straddles".getBytes(StandardCharsets.US_ASCII);
            byte[] value = TestSegments.randomBytes(9, 3000);
            byte[] padded = new byte[key.length + 10];
            System.arraycopy(key, 0, padded, 5, key.length);
            long at = writer.appendObject(12, padded, 5, key.length, value, 0, value.length, 99, 0xFFFF_FFFE);
            assertThat(at).isEqualTo(26);

            SegmentIterator iterator = new SegmentIterator().reset(writer.memory(), 2, writer.certificate());
            assertThat(iterator.next()).isEqualTo(SegmentIterator.ENTRY);
            assertThat(iterator.next()).isEqualTo(SegmentIterator.ENTRY);
            ObjectFlyweight object = iterator.object();
            assertThat(object.memory()).isSameAs(writer.memory());
            assertThat(object.keyEquals(padded, 5, key.length)).isTrue();
            assertThat(object.keyEquals(padded, 4, key.length)).isFalse();
            assertThat(object.keyEquals(key, 0, key.length - 1)).isFalse();
            assertThat(object.key()).isEqualTo(key);
            assertThat(object.valueLength()).isEqualTo(value.length);
            assertThat(object.valueOffset()).isEqualTo(object.keyOffset() + key.length);
            assertThat(object.value()).isEqualTo(value);
            assertThat(object.timestampSeconds()).isEqualTo(0xFFFF_FFFEL);
            assertThat(iterator.next()).isEqualTo(SegmentIterator.END);
        }
    }

    @Test
    void appendThatWouldPassTheCapacityReturnsFullAndChangesNothing() {
        int capacity = 2 * SEGLET_BYTES;
        try (Arena arena = Arena.ofConfined()) {
            SegmentWriter writer = TestSegments.writer(arena, SEGLET_BYTES, capacity);
            assertThat(writer.appendSegmentHeader(1, 2, capacity)).isZero();
            byte[] key = {1, 2, 3};
            int valueLength = valueLengthFilling(capacity - writer.position(), key.length);
            byte[] value = TestSegments.randomBytes(1, valueLength);

            assertThat(writer.appendObject(7, key, 0, key.length, value, 0, valueLength + 1, 1, 0))
                    .isEqualTo(SegmentWriter.FULL);
            assertThat(writer.position()).isEqualTo(26);
            assertThat(writer.appendObject(7, key, 0, key.length, value, 0, valueLength, 1, 0)).isEqualTo(26);
            assertThat(writer.position()).isEqualTo(capacity);
            SegmentCertificate full = writer.certificate();

            assertThat(writer.appendSafeVersion(5)).isEqualTo(SegmentWriter.FULL);
            assertThat(writer.appendTombstone(1, key, 0, 1, 1, 1)).isEqualTo(SegmentWriter.FULL);
            assertThat(writer.appendCopy(writer.memory(), 0, 26)).isEqualTo(SegmentWriter.FULL);
            assertThat(writer.position()).isEqualTo(capacity);
            assertThat(writer.certificate()).isEqualTo(full);
            assertThat(SegmentIterator.validate(writer.memory(), 2, full)).isEqualTo(new ValidationResult.Valid(2));
        }
    }

    @Test
    void segmentWhoseSegletsAreAllUsedIsFullEvenIfTheSourceHasMore() {
        try (Arena arena = Arena.ofConfined()) {
            TestSegments.CountingSource source = new TestSegments.CountingSource(arena, 1024, 100);
            SegmentWriter writer = new SegmentWriter(new SegmentMemory(2, 1024), 1 << 20, source);
            writer.appendSegmentHeader(1, 2, 2048);
            byte[] key = {9};
            assertThat(writer.appendObject(1, key, 0, 1, new byte[1500], 0, 1500, 1, 1)).isEqualTo(26);
            int position = writer.position();

            assertThat(writer.appendObject(1, key, 0, 1, new byte[1500], 0, 1500, 1, 1)).isEqualTo(SegmentWriter.FULL);
            assertThat(writer.position()).isEqualTo(position);
            assertThat(source.handedOut()).isEqualTo(2);
        }
    }

    @Test
    void fixedMemoryWithoutSourceIsFullAtItsEnd() {
        try (Arena arena = Arena.ofConfined()) {
            SegmentMemory memory = new SegmentMemory(new MemorySegment[] {arena.allocate(100)}, 128);
            SegmentWriter writer = new SegmentWriter(memory, 1000, null);
            writer.appendSegmentHeader(1, 2, 100);
            assertThat(writer.appendSafeVersion(1)).isEqualTo(26);
            assertThat(writer.appendLogDigest(new long[10], 10)).isEqualTo(SegmentWriter.FULL);
            assertThat(writer.position()).isEqualTo(26 + 14);
        }
    }

    @Test
    void sourceOutOfMemoryGivesNoMemoryAndLeavesThePositionUnchanged() {
        try (Arena arena = Arena.ofConfined()) {
            TestSegments.CountingSource source = new TestSegments.CountingSource(arena, SEGLET_BYTES, 1);
            SegmentWriter writer = new SegmentWriter(new SegmentMemory(16, SEGLET_BYTES), 16 * SEGLET_BYTES, source);
            writer.appendSegmentHeader(1, 2, 16 * SEGLET_BYTES);
            byte[] key = {1, 2, 3, 4};
            byte[] value = TestSegments.randomBytes(4, 150 * 1024);
            int position = writer.position();
            SegmentCertificate before = writer.certificate();

            assertThat(writer.appendObject(3, key, 0, key.length, value, 0, value.length, 8, 9))
                    .isEqualTo(SegmentWriter.NO_MEMORY);
            assertThat(writer.position()).isEqualTo(position);
            assertThat(writer.certificate()).isEqualTo(before);

            // Two seglets more are needed; with only one to be had, the append still fails,
            // keeping the seglet it got, and the segment stays valid.
            source.allow(1);
            assertThat(writer.appendObject(3, key, 0, key.length, value, 0, value.length, 8, 9))
                    .isEqualTo(SegmentWriter.NO_MEMORY);
            assertThat(writer.memory().segletCount()).isEqualTo(2);
            assertThat(writer.position()).isEqualTo(position);
            assertThat(SegmentIterator.validate(writer.memory(), 2, writer.certificate()))
                    .isEqualTo(new ValidationResult.Valid(1));

            source.allow(1);
            assertThat(writer.appendObject(3, key, 0, key.length, value, 0, value.length, 8, 9)).isEqualTo(position);
            TestSegments.Scan scan = TestSegments.scan(
                    new SegmentIterator().reset(writer.memory(), 2, writer.certificate()), writer.position());
            assertThat(scan.entries()).containsExactly(new LogEntry.Header(1, 2, 16 * SEGLET_BYTES),
                    new LogEntry.ObjectEntry(3, 8, 9, key, value));
        }
    }

    @Test
    void certificateCoversTheHeadersOfWhatWasAppended() {
        try (Arena arena = Arena.ofConfined()) {
            SegmentWriter writer = TestSegments.writer(arena, 4096, 1 << 20);
            assertThat(writer.certificate()).isEqualTo(new SegmentCertificate(0, 0));
            writer.appendSegmentHeader(1, 2, 1 << 20);
            SegmentCertificate afterHeader = writer.certificate();
            assertThat(afterHeader.lengthBytes()).isEqualTo(26);
            assertThat(afterHeader.checksum()).isEqualTo(writer.certificateChecksum());
            writer.appendSafeVersion(3);
            assertThat(writer.certificate().checksum()).isNotEqualTo(afterHeader.checksum());
            // An older certificate still certifies its shorter prefix.
            assertThat(SegmentIterator.validate(writer.memory(), 2, afterHeader)).isEqualTo(new ValidationResult.Valid(1));
        }
    }

    /** Value length whose object (table 7, version 1, key of {@code keyLength}) frames to exactly {@code framedBytes}. */
    private static int valueLengthFilling(int framedBytes, int keyLength) {
        for (int valueLength = framedBytes; valueLength >= 0; valueLength--) {
            if (EntryDescriptor.framedLength(ObjectFlyweight.payloadLength(7, 1, keyLength, valueLength)) == framedBytes) {
                return valueLength;
            }
        }
        throw new AssertionError("no value length frames to " + framedBytes);
    }

    private static int straddlingEntries(TestSegments.Written written) {
        int count = 0;
        for (int i = 0; i < written.offsets().length; i++) {
            if (!written.memory().isContiguous(written.offsets()[i], written.framedLength(i))) {
                count++;
            }
        }
        return count;
    }

    private static EntryType typeOf(LogEntry entry) {
        return switch (entry) {
            case LogEntry.Header _ -> EntryType.SEGMENT_HEADER;
            case LogEntry.Digest _ -> EntryType.LOG_DIGEST;
            case LogEntry.SafeVersion _ -> EntryType.SAFE_VERSION;
            case LogEntry.Stats _ -> EntryType.TABLE_STATS;
            case LogEntry.ObjectEntry _ -> EntryType.OBJECT;
            case LogEntry.Tombstone _ -> EntryType.TOMBSTONE;
        };
    }
}
