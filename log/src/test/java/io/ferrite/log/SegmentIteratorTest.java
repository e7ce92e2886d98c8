package io.ferrite.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SegmentIteratorTest {
    private static final long SEGMENT_ID = 4242;
    private static final int HEADER_BYTES = 26;

    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void closeArena() {
        arena.close();
    }

    @Test
    void wrongCertificateChecksumIsReportedAtTheCertifiedEnd() {
        SegmentWriter writer = segmentWithObjects(5);
        SegmentCertificate good = writer.certificate();
        SegmentCertificate wrong = new SegmentCertificate(good.lengthBytes(), good.checksum() ^ 0x100);

        ValidationResult result = SegmentIterator.validate(writer.memory(), SEGMENT_ID, wrong);

        assertThat(result).isInstanceOfSatisfying(ValidationResult.Corrupt.class, corrupt -> {
            assertThat(corrupt.corruption().segmentId()).isEqualTo(SEGMENT_ID);
            assertThat(corrupt.corruption().offset()).isEqualTo(good.lengthBytes());
            assertThat(corrupt.corruption().reason()).contains("certificate checksum");
        });
        assertThat(result.isValid()).isFalse();
        assertThat(SegmentIterator.validate(writer.memory(), SEGMENT_ID, good)).isEqualTo(new ValidationResult.Valid(6));
    }

    @Test
    void iteratorDeliversEveryEntryBeforeReportingAWrongCertificateChecksum() {
        SegmentWriter writer = segmentWithObjects(3);
        SegmentCertificate wrong = new SegmentCertificate(writer.position(), writer.certificateChecksum() + 1);

        TestSegments.Scan scan = TestSegments.scan(new SegmentIterator().reset(writer.memory(), SEGMENT_ID, wrong),
                writer.position());

        assertThat(scan.entries()).hasSize(4);
        assertThat(scan.result()).isEqualTo(SegmentIterator.CORRUPT);
        assertThat(scan.corruption()).isEqualTo(new Corruption(SEGMENT_ID, writer.position(),
                "certificate checksum mismatch over " + writer.position() + " bytes"));
    }

    @Test
    void segmentNotStartingWithAHeaderIsCorruptAtOffsetZero() {
        SegmentWriter writer = TestSegments.writer(arena, 4096, 1 << 20);
        writer.appendSafeVersion(1);
        writer.appendSegmentHeader(1, SEGMENT_ID, 1 << 20);

        assertCorruptAt(SegmentIterator.validate(writer.memory(), SEGMENT_ID, writer.certificate()), 0, "header");
    }

    @Test
    void segmentHeaderInTheMiddleIsCorrupt() {
        SegmentWriter writer = segmentWithObjects(2);
        long at = writer.appendSegmentHeader(1, SEGMENT_ID, 1 << 20);

        assertCorruptAt(SegmentIterator.validate(writer.memory(), SEGMENT_ID, writer.certificate()), at, "header");
    }

    @Test
    void unknownEntryTypeIsCorrupt() {
        SegmentWriter writer = segmentWithObjects(2);
        long at = writer.appendSafeVersion(1);
        byte header = writer.memory().getByte(at);
        writer.memory().putByte(at, (byte) (header & 0xC0 | 0x3F));

        assertCorruptAt(SegmentIterator.validate(writer.memory(), SEGMENT_ID, writer.certificate()), at, "unknown entry type 63");
    }

    @Test
    void entryChecksumMismatchIsReportedAtTheEntry() {
        SegmentWriter writer = segmentWithObjects(4);
        long at = writer.appendTombstone(1, new byte[] {1, 2, 3}, 0, 3, 4, 5);
        writer.appendSafeVersion(6);
        flipByte(writer.memory(), writer.position() - 20);

        assertCorruptAt(SegmentIterator.validate(writer.memory(), SEGMENT_ID, writer.certificate()), at, "TOMBSTONE checksum");
    }

    @Test
    void iteratorThatTrustsItsMemorySkipsEntryChecksums() {
        SegmentWriter writer = segmentWithObjects(2);
        writer.appendSafeVersion(6);
        flipByte(writer.memory(), writer.position() - 1);

        TestSegments.Scan scan = TestSegments.scan(
                new SegmentIterator(false).reset(writer.memory(), SEGMENT_ID, writer.certificate()), writer.position());

        assertThat(scan.result()).isEqualTo(SegmentIterator.END);
        assertThat(scan.entries()).hasSize(4).last().isNotEqualTo(new LogEntry.SafeVersion(6));
    }

    @Test
    void certificateLongerThanTheMemoryIsTruncation() {
        SegmentWriter writer = segmentWithObjects(3);
        SegmentMemory shorter = TestSegments.contiguousCopy(arena, writer.memory(), writer.position() - 1);

        SegmentIterator iterator = new SegmentIterator().reset(shorter, SEGMENT_ID, writer.certificate());

        assertThat(iterator.next()).isEqualTo(SegmentIterator.CORRUPT);
        assertThat(iterator.corruption().offset()).isEqualTo(writer.position() - 1);
        assertThat(iterator.corruption().reason()).startsWith("truncated");
    }

    @Test
    void certificateEndingInsideAnEntryIsCorruptAtThatEntry() {
        SegmentWriter writer = segmentWithObjects(3);
        long last = writer.appendSafeVersion(1);

        for (int cut = 1; cut < 14; cut++) {
            SegmentCertificate certificate = new SegmentCertificate((int) last + cut, writer.certificateChecksum());
            assertCorruptAt(SegmentIterator.validate(writer.memory(), SEGMENT_ID, certificate), last, "past the end");
        }
    }

    @Test
    void emptyCertificateCertifiesNothing() {
        SegmentWriter writer = segmentWithObjects(1);

        assertThat(SegmentIterator.validate(writer.memory(), SEGMENT_ID, new SegmentCertificate(0, 0)))
                .isEqualTo(new ValidationResult.Valid(0));
        assertCorruptAt(SegmentIterator.validate(writer.memory(), SEGMENT_ID, new SegmentCertificate(0, 1)),
                0, "certificate checksum");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedPayloads")
    void entryWithAGoodChecksumButAMalformedPayloadIsCorrupt(String description, EntryType type, byte[] payload) {
        SegmentWriter writer = segmentWithObjects(1);
        long at = writer.appendEntry(type, payload, payload.length);

        assertCorruptAt(SegmentIterator.validate(writer.memory(), SEGMENT_ID, writer.certificate()), at, "malformed " + type);
    }

    static Stream<Arguments> malformedPayloads() {
        return Stream.of(
                Arguments.of("empty object", EntryType.OBJECT, new byte[0]),
                Arguments.of("object tableId runs past the payload", EntryType.OBJECT, new byte[] {(byte) 0x80}),
                Arguments.of("object varint longer than 64 bits", EntryType.OBJECT, overlongVarint()),
                Arguments.of("object timestamp cut short", EntryType.OBJECT, new byte[] {1, 1, 0, 0, 0}),
                Arguments.of("object with an empty key", EntryType.OBJECT, new byte[] {1, 1, 0, 0, 0, 0, 0, 9}),
                Arguments.of("object key longer than the payload", EntryType.OBJECT, new byte[] {1, 1, 0, 0, 0, 0, 5, 1, 2}),
                Arguments.of("object key length above the limit", EntryType.OBJECT,
                        new byte[] {1, 1, 0, 0, 0, 0, (byte) 0x80, (byte) 0x80, 0x04}),
                Arguments.of("tombstone without a key", EntryType.TOMBSTONE, new byte[] {1, 1, 1}),
                Arguments.of("tombstone segmentId runs past the payload", EntryType.TOMBSTONE, new byte[] {1, 1, (byte) 0x81}),
                Arguments.of("digest shorter than its count", EntryType.LOG_DIGEST, new byte[] {1, 0, 0}),
                Arguments.of("digest count disagrees with its ids", EntryType.LOG_DIGEST, new byte[4 + 8 * 2]),
                Arguments.of("digest with a partial id", EntryType.LOG_DIGEST, new byte[] {0, 0, 0, 0, 1}),
                Arguments.of("table stats with a partial record", EntryType.TABLE_STATS, statsPayload(1, 23)),
                Arguments.of("table stats count disagrees", EntryType.TABLE_STATS, statsPayload(3, 48)),
                Arguments.of("safe version of 7 bytes", EntryType.SAFE_VERSION, new byte[7]),
                Arguments.of("safe version of 9 bytes", EntryType.SAFE_VERSION, new byte[9]));
    }

    @Test
    void malformedSegmentHeaderIsCorruptAtOffsetZero() {
        SegmentWriter writer = TestSegments.writer(arena, 4096, 1 << 20);
        writer.appendEntry(EntryType.SEGMENT_HEADER, new byte[19], 19);

        assertCorruptAt(SegmentIterator.validate(writer.memory(), SEGMENT_ID, writer.certificate()), 0, "malformed");
    }

    @Test
    void trustedIterationStopsAtTheGivenLengthWithoutACertificate() {
        SegmentWriter writer = segmentWithObjects(3);
        long safeVersionAt = writer.appendSafeVersion(8);

        TestSegments.Scan scan = TestSegments.scan(
                new SegmentIterator().resetTrusted(writer.memory(), SEGMENT_ID, safeVersionAt), safeVersionAt);
        assertThat(scan.result()).isEqualTo(SegmentIterator.END);
        assertThat(scan.entries()).hasSize(4);

        SegmentIterator beyond = new SegmentIterator().resetTrusted(writer.memory(), SEGMENT_ID, writer.memory().capacity() + 1);
        assertThat(beyond.next()).isEqualTo(SegmentIterator.CORRUPT);
        assertThat(beyond.corruption().offset()).isEqualTo(writer.memory().capacity());
    }

    @Test
    void resetIteratorForgetsItsPreviousCorruption() {
        SegmentWriter writer = segmentWithObjects(2);
        SegmentIterator iterator = new SegmentIterator();
        iterator.reset(writer.memory(), SEGMENT_ID, new SegmentCertificate(writer.position(), 1));
        TestSegments.scan(iterator, writer.position());
        assertThat(iterator.corruption()).isNotNull();

        TestSegments.Scan scan = TestSegments.scan(iterator.reset(writer.memory(), SEGMENT_ID, writer.certificate()),
                writer.position());

        assertThat(scan.result()).isEqualTo(SegmentIterator.END);
        assertThat(scan.corruption()).isNull();
        assertThat(scan.entries()).hasSize(3);
    }

    private SegmentWriter segmentWithObjects(int objects) {
        SegmentWriter writer = TestSegments.writer(arena, 4096, 1 << 20);
        assertThat(writer.appendSegmentHeader(1, SEGMENT_ID, 1 << 20)).isZero();
        for (int i = 0; i < objects; i++) {
            byte[] key = {(byte) i, 1};
            byte[] value = TestSegments.randomBytes(i, 100 * i);
            assertThat(writer.appendObject(3, key, 0, key.length, value, 0, value.length, i, i)).isNotNegative();
        }
        assertThat(writer.position()).isGreaterThanOrEqualTo(HEADER_BYTES);
        return writer;
    }

    private static void assertCorruptAt(ValidationResult result, long offset, String reason) {
        assertThat(result).isInstanceOfSatisfying(ValidationResult.Corrupt.class, corrupt -> {
            assertThat(corrupt.corruption().segmentId()).isEqualTo(SEGMENT_ID);
            assertThat(corrupt.corruption().offset()).isEqualTo(offset);
            assertThat(corrupt.corruption().reason()).contains(reason);
            assertThat(corrupt.corruption().toString()).startsWith("segment " + SEGMENT_ID + " offset " + offset + ": ");
        });
    }

    private static void flipByte(SegmentMemory memory, long offset) {
        memory.putByte(offset, (byte) ~memory.getByte(offset));
    }

    private static byte[] overlongVarint() {
        byte[] payload = new byte[20];
        Arrays.fill(payload, 0, 11, (byte) 0x80);
        return payload;
    }

    private static byte[] statsPayload(int count, int recordBytes) {
        byte[] payload = new byte[4 + recordBytes];
        payload[0] = (byte) count;
        return payload;
    }
}
