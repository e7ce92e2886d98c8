package io.ferrite.log;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * Generators of valid segments for property tests. Byte contents come from a generated seed,
 * so a segment of megabytes costs one long to generate and shrinks by its lengths.
 */
final class SegmentArbitraries {
    /** Capacity of every generated segment; the largest body generated stays well below it. */
    static final int CAPACITY_BYTES = 4 * 1024 * 1024;
    private static final int MAX_BODY_ENTRIES = 25;

    private SegmentArbitraries() {
    }

    /**
     * A segment to write: seglet size, the id the caller knows it by, and its entries (header,
     * digest, table stats, safe version, then objects and tombstones).
     */
    record SegmentSpec(int segletBytes, long segmentId, List<LogEntry> entries) {
        TestSegments.Written write(Arena arena) {
            return TestSegments.write(writer(arena), entries);
        }

        SegmentWriter writer(Arena arena) {
            return TestSegments.writer(arena, segletBytes, CAPACITY_BYTES);
        }
    }

    static Arbitrary<SegmentSpec> segments() {
        return Combinators.combine(
                Arbitraries.of(512, 4096, TestSegments.SEGLET_BYTES),
                Arbitraries.longs(),
                Arbitraries.longs(),
                bodyEntries().list().ofMaxSize(MAX_BODY_ENTRIES))
                .as((segletBytes, segmentId, openingSeed, body) -> {
                    List<LogEntry> entries = new ArrayList<>(
                            TestSegments.openingEntries(new SplittableRandom(openingSeed), segmentId, CAPACITY_BYTES));
                    entries.addAll(body);
                    return new SegmentSpec(segletBytes, segmentId, List.copyOf(entries));
                });
    }

    /** Objects (keys 1..300 B, values mostly small, some past a 64 KiB seglet) and tombstones. */
    static Arbitrary<LogEntry> bodyEntries() {
        Arbitrary<byte[]> keys = bytes(1, 300);
        Arbitrary<byte[]> values = Arbitraries.frequencyOf(List.of(
                Tuple.of(6, bytes(0, 512)),
                Tuple.of(3, bytes(0, 8 * 1024)),
                Tuple.of(1, bytes(0, 70 * 1024))));
        Arbitrary<LogEntry> objects = Combinators.combine(
                Arbitraries.longs(), Arbitraries.longs(), Arbitraries.longs().between(0, 0xFFFF_FFFFL), keys, values)
                .as((tableId, version, timestamp, key, value) -> new LogEntry.ObjectEntry(tableId, version, timestamp, key, value));
        Arbitrary<LogEntry> tombstones = Combinators.combine(
                Arbitraries.longs(), Arbitraries.longs(), Arbitraries.longs(), keys)
                .as((tableId, version, segmentId, key) -> new LogEntry.Tombstone(tableId, version, segmentId, key));
        return Arbitraries.frequencyOf(List.of(Tuple.of(3, objects), Tuple.of(1, tombstones)));
    }

    /** Random bytes of a generated length in {@code [min, max]}. */
    static Arbitrary<byte[]> bytes(int min, int max) {
        return Combinators.combine(Arbitraries.integers().between(min, max), Arbitraries.longs())
                .as((length, seed) -> TestSegments.randomBytes(seed, length));
    }
}
