package io.ferrite.log;

import static io.ferrite.log.TestSegments.SEGLET_BYTES;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SegmentCopyTest {
    private static final int SEGMENT_BYTES = 16 * 1024 * 1024;
    private static final long SOURCE_ID = 10;
    private static final long COPY_ID = 11;

    @ParameterizedTest(name = "into seglets of {0} bytes")
    @ValueSource(ints = {1024, 16 * 1024, SEGLET_BYTES, 256 * 1024})
    void copyingEveryEntryGivesTheSameEntriesAndTheSameCertificate(int copySegletBytes) {
        try (Arena arena = Arena.ofConfined()) {
            TestSegments.Written source = sourceSegment(arena, 8);
            SegmentWriter copy = TestSegments.writer(arena, copySegletBytes, SEGMENT_BYTES);

            SegmentIterator iterator = new SegmentIterator().reset(source.memory(), SOURCE_ID, source.certificate());
            int copied = 0;
            while (iterator.next() == SegmentIterator.ENTRY) {
                long at = copy.appendCopy(iterator.memory(), iterator.entryOffset(), iterator.framedLength());
                assertThat(at).isEqualTo(source.offsets()[copied]);
                copied++;
            }
            assertThat(iterator.corruption()).isNull();
            assertThat(copied).isEqualTo(source.entries().size());

            // Same headers in the same order: the certificate is the source's.
            assertThat(copy.certificate()).isEqualTo(source.certificate());
            // The header was copied verbatim, so the copy is still segment SOURCE_ID (compaction).
            assertThat(SegmentIterator.validate(copy.memory(), SOURCE_ID, copy.certificate()))
                    .isEqualTo(new ValidationResult.Valid(copied));
            ValidationResult misfiled = SegmentIterator.validate(copy.memory(), COPY_ID, copy.certificate());
            assertThat(misfiled).isInstanceOf(ValidationResult.Corrupt.class);
            assertThat(((ValidationResult.Corrupt) misfiled).corruption().reason()).contains("header names segment");
            TestSegments.Scan scan = TestSegments.scan(
                    new SegmentIterator().reset(copy.memory(), SOURCE_ID, copy.certificate()), copy.position());
            assertThat(scan.entries()).containsExactlyElementsOf(source.entries());
        }
    }

    @Test
    void copyingSomeEntriesGivesAValidSegmentOfThoseEntries() {
        try (Arena arena = Arena.ofConfined()) {
            TestSegments.Written source = sourceSegment(arena, 9);
            SegmentWriter copy = TestSegments.writer(arena, 4096, SEGMENT_BYTES);
            List<LogEntry> survivors = new ArrayList<>();

            SegmentIterator iterator = new SegmentIterator().reset(source.memory(), SOURCE_ID, source.certificate());
            for (int i = 0; iterator.next() == SegmentIterator.ENTRY; i++) {
                // Keep the header and every third entry, as a cleaner keeps live objects.
                if (i == 0 || i % 3 == 0) {
                    assertThat(copy.appendCopy(iterator.memory(), iterator.entryOffset(), iterator.framedLength()))
                            .isNotNegative();
                    survivors.add(LogEntry.read(iterator));
                }
            }

            SegmentCertificate certificate = copy.certificate();
            assertThat(certificate).isNotEqualTo(source.certificate());
            assertThat(SegmentIterator.validate(copy.memory(), SOURCE_ID, certificate))
                    .isEqualTo(new ValidationResult.Valid(survivors.size()));
            TestSegments.Scan scan = TestSegments.scan(
                    new SegmentIterator().reset(copy.memory(), SOURCE_ID, certificate), copy.position());
            assertThat(scan.entries()).containsExactlyElementsOf(survivors);
        }
    }

    @Test
    void contiguousReplicaOfASegmentValidatesWithItsCertificate() {
        try (Arena arena = Arena.ofConfined()) {
            TestSegments.Written source = sourceSegment(arena, 10);
            SegmentMemory replica = TestSegments.contiguousCopy(arena, source.memory(), source.certificate().lengthBytes());

            assertThat(replica.segletCount()).isEqualTo(1);
            assertThat(SegmentIterator.validate(replica, SOURCE_ID, source.certificate()))
                    .isEqualTo(new ValidationResult.Valid(source.entries().size()));
            TestSegments.Scan scan = TestSegments.scan(
                    new SegmentIterator().reset(replica, SOURCE_ID, source.certificate()),
                    source.certificate().lengthBytes());
            assertThat(scan.isPrefixOf(source)).isTrue();
            assertThat(scan.entries()).containsExactlyElementsOf(source.entries());
        }
    }

    private static TestSegments.Written sourceSegment(Arena arena, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<LogEntry> entries = new ArrayList<>(TestSegments.openingEntries(random, SOURCE_ID, SEGMENT_BYTES));
        for (int i = 0; i < 40; i++) {
            entries.add(TestSegments.randomBodyEntry(random, 300, 200 * 1024));
        }
        return TestSegments.write(TestSegments.writer(arena, SEGLET_BYTES, SEGMENT_BYTES), entries);
    }
}
