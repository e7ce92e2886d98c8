package io.ferrite.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.ferrite.log.SegmentArbitraries.SegmentSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.function.Executable;

/**
 * Corrupts valid segments at random and checks that validation either reports the damage,
 * naming the segment and an offset inside the certified prefix, or delivers exactly the
 * entries that were written. Never an exception, never a hang: each try runs under a
 * deadline, and every walk is bounded by the number of entries the bytes could hold.
 */
class SegmentCorruptionTest {
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    @Provide
    Arbitrary<SegmentSpec> segments() {
        return SegmentArbitraries.segments();
    }

    @Property(tries = 100)
    void validSegmentsValidateAndReadBack(@ForAll("segments") SegmentSpec spec) {
        withDeadline(() -> {
            try (Arena arena = Arena.ofConfined()) {
                TestSegments.Written written = spec.write(arena);
                assertThat(SegmentIterator.validate(written.memory(), spec.segmentId(), written.certificate()))
                        .isEqualTo(new ValidationResult.Valid(spec.entries().size()));
                TestSegments.Scan scan = TestSegments.scan(
                        new SegmentIterator().reset(written.memory(), spec.segmentId(), written.certificate()),
                        written.certificate().lengthBytes());
                assertThat(scan.entries()).containsExactlyElementsOf(spec.entries());
            }
        });
    }

    @Property(tries = 400)
    void bitFlipsInTheCertifiedPrefixAreDetectedOrHarmless(
            @ForAll("segments") SegmentSpec spec,
            @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 0) Integer> bits) {
        withDeadline(() -> {
            try (Arena arena = Arena.ofConfined()) {
                TestSegments.Written written = spec.write(arena);
                long certifiedBits = 8L * written.certificate().lengthBytes();
                for (int bit : bits) {
                    flipBit(written.memory(), Math.floorMod(bit, certifiedBits));
                }
                assertDetectedOrHarmless(written, written.memory(), spec.segmentId());
            }
        });
    }

    @Property(tries = 300)
    void bitFlipsInEntryFramesAreDetectedOrHarmless(
            @ForAll("segments") SegmentSpec spec,
            @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 0) Integer> entries,
            @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 0, max = 8 * 9 - 1) Integer> bits) {
        withDeadline(() -> {
            try (Arena arena = Arena.ofConfined()) {
                TestSegments.Written written = spec.write(arena);
                // Header byte, length field and CRC: the first 3..9 bytes of each entry.
                for (int i = 0; i < Math.min(entries.size(), bits.size()); i++) {
                    int entry = Math.floorMod(entries.get(i), written.offsets().length);
                    int frameBits = 8 * Math.min(9, written.framedLength(entry));
                    flipBit(written.memory(), 8 * written.offsets()[entry] + bits.get(i) % frameBits);
                }
                assertDetectedOrHarmless(written, written.memory(), spec.segmentId());
            }
        });
    }

    @Property(tries = 300)
    void truncationBelowTheCertifiedLengthIsDetected(
            @ForAll("segments") SegmentSpec spec,
            @ForAll @IntRange(min = 0) int cut,
            @ForAll boolean contiguous) {
        withDeadline(() -> {
            try (Arena arena = Arena.ofConfined()) {
                TestSegments.Written written = spec.write(arena);
                long length = Math.floorMod(cut, written.certificate().lengthBytes());
                SegmentMemory truncated = contiguous
                        ? TestSegments.contiguousCopy(arena, written.memory(), length)
                        : prefixOfSeglets(written.memory(), length);
                assertThat(truncated.capacity()).isEqualTo(length);

                ValidationResult result = SegmentIterator.validate(truncated, spec.segmentId(), written.certificate());

                assertThat(result).isEqualTo(new ValidationResult.Corrupt(new Corruption(spec.segmentId(), length,
                        "truncated: certificate covers " + written.certificate().lengthBytes()
                                + " bytes but only " + length + " are present")));
                assertDetectedOrHarmless(written, truncated, spec.segmentId());
            }
        });
    }

    @Property(tries = 400)
    void overwrittenLengthFieldsAreDetectedOrHarmless(
            @ForAll("segments") SegmentSpec spec,
            @ForAll @IntRange(min = 0) int entryIndex,
            @ForAll long newLength) {
        withDeadline(() -> {
            try (Arena arena = Arena.ofConfined()) {
                TestSegments.Written written = spec.write(arena);
                long at = written.offsets()[Math.floorMod(entryIndex, written.offsets().length)];
                int width = EntryDescriptor.lengthWidthOf(written.memory().getByte(at));
                written.memory().putUnsigned(at + 1, width, newLength);
                assertDetectedOrHarmless(written, written.memory(), spec.segmentId());
            }
        });
    }

    @Property(tries = 400)
    void garbageOverARangeIsDetectedOrHarmless(
            @ForAll("segments") SegmentSpec spec,
            @ForAll @IntRange(min = 0) int start,
            @ForAll @IntRange(min = 1, max = 512) int length,
            @ForAll long garbageSeed) {
        withDeadline(() -> {
            try (Arena arena = Arena.ofConfined()) {
                TestSegments.Written written = spec.write(arena);
                SegmentMemory memory = written.memory();
                long from = Math.floorMod(start, written.certificate().lengthBytes());
                int bytes = (int) Math.min(length, memory.capacity() - from);
                memory.copyFrom(TestSegments.randomBytes(garbageSeed, bytes), 0, from, bytes);
                assertDetectedOrHarmless(written, memory, spec.segmentId());
            }
        });
    }

    @Property(tries = 200)
    void damageBeyondTheCertifiedPrefixIsHarmless(
            @ForAll("segments") SegmentSpec spec,
            @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 0) Integer> bits,
            @ForAll @IntRange(min = 1, max = 100_000) int uncertifiedValueBytes) {
        withDeadline(() -> {
            try (Arena arena = Arena.ofConfined()) {
                SegmentWriter writer = spec.writer(arena);
                TestSegments.Written written = TestSegments.write(writer, spec.entries());
                byte[] value = TestSegments.randomBytes(uncertifiedValueBytes, uncertifiedValueBytes);
                assertThat(writer.appendObject(1, new byte[] {1}, 0, 1, value, 0, value.length, 2, 3)).isNotNegative();
                long certified = written.certificate().lengthBytes();
                long beyond = written.memory().capacity() - certified;
                for (int bit : bits) {
                    flipBit(written.memory(), 8 * certified + Math.floorMod(bit, 8 * beyond));
                }

                assertThat(SegmentIterator.validate(written.memory(), spec.segmentId(), written.certificate()))
                        .isEqualTo(new ValidationResult.Valid(spec.entries().size()));
                assertDetectedOrHarmless(written, written.memory(), spec.segmentId());
            }
        });
    }

    /**
     * An iterator that skips entry checksums still parses only within bounds: garbage reaches
     * the flyweights, which must reject it rather than throw or read past the certified end.
     */
    @Property(tries = 300)
    void iteratorWithoutChecksumsSurvivesGarbage(
            @ForAll("segments") SegmentSpec spec,
            @ForAll long damageSeed,
            @ForAll @IntRange(min = 1, max = 20) int damages,
            @ForAll boolean trusted) {
        withDeadline(() -> {
            try (Arena arena = Arena.ofConfined()) {
                TestSegments.Written written = spec.write(arena);
                SegmentMemory memory = written.memory();
                long certified = written.certificate().lengthBytes();
                SplittableRandom random = new SplittableRandom(damageSeed);
                for (int i = 0; i < damages; i++) {
                    long from = random.nextLong(certified);
                    int bytes = (int) Math.min(1 + random.nextInt(32), certified - from);
                    memory.copyFrom(TestSegments.randomBytes(random, bytes), 0, from, bytes);
                }

                SegmentIterator iterator = new SegmentIterator(false);
                if (trusted) {
                    iterator.resetTrusted(memory, spec.segmentId(), certified);
                } else {
                    iterator.reset(memory, spec.segmentId(), written.certificate());
                }
                TestSegments.Scan scan = TestSegments.scan(iterator, certified);
                if (scan.result() == SegmentIterator.CORRUPT) {
                    assertCorruptionWithin(scan.corruption(), spec.segmentId(), certified);
                }
            }
        });
    }

    /**
     * The property every corruption must satisfy: the entries delivered before the walk stopped
     * are the written ones, and the walk either ends cleanly having delivered all of them, or
     * reports a corruption of this segment within the certified prefix.
     */
    private static void assertDetectedOrHarmless(TestSegments.Written written, SegmentMemory memory, long segmentId) {
        SegmentCertificate certificate = written.certificate();
        ValidationResult result = SegmentIterator.validate(memory, segmentId, certificate);
        TestSegments.Scan scan = TestSegments.scan(new SegmentIterator().reset(memory, segmentId, certificate),
                certificate.lengthBytes());

        assertThat(scan.isPrefixOf(written)).as("entries delivered are byte-identical to those written").isTrue();
        switch (result) {
            case ValidationResult.Corrupt(Corruption corruption) -> {
                assertCorruptionWithin(corruption, segmentId, certificate.lengthBytes());
                assertThat(scan.result()).isEqualTo(SegmentIterator.CORRUPT);
                assertThat(scan.corruption()).isEqualTo(corruption);
                assertThat(corruption.offset()).as("entries before the corruption are trusted")
                        .isGreaterThanOrEqualTo(deliveredBytes(scan));
            }
            case ValidationResult.Valid(long entries) -> {
                assertThat(entries).isEqualTo(written.entries().size());
                assertThat(scan.result()).isEqualTo(SegmentIterator.END);
                assertThat(scan.framed()).hasSameSizeAs(written.framed());
            }
        }
    }

    private static void assertCorruptionWithin(Corruption corruption, long segmentId, long certifiedBytes) {
        assertThat(corruption).isNotNull();
        assertThat(corruption.segmentId()).isEqualTo(segmentId);
        assertThat(corruption.offset()).isBetween(0L, certifiedBytes);
        assertThat(corruption.reason()).isNotBlank();
    }

    private static long deliveredBytes(TestSegments.Scan scan) {
        long bytes = 0;
        for (byte[] entry : scan.framed()) {
            bytes += entry.length;
        }
        return bytes;
    }

    private static void flipBit(SegmentMemory memory, long bit) {
        long offset = bit >>> 3;
        memory.putByte(offset, (byte) (memory.getByte(offset) ^ (1 << (bit & 7))));
    }

    /** The first {@code length} bytes of {@code memory} as a chain of its own seglets, the last one cut short. */
    private static SegmentMemory prefixOfSeglets(SegmentMemory memory, long length) {
        int segletBytes = memory.segletSizeBytes();
        SegmentMemory prefix = new SegmentMemory(memory.maxSeglets(), segletBytes);
        for (int i = 0; (long) i * segletBytes < length; i++) {
            MemorySegment seglet = memory.seglet(i);
            prefix.addSeglet(seglet.asSlice(0, Math.min(segletBytes, length - (long) i * segletBytes)));
        }
        return prefix;
    }

    private static void withDeadline(Executable body) {
        assertTimeoutPreemptively(DEADLINE, body);
    }
}
