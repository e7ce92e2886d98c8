package io.ferrite.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Builds segments from {@link LogEntry} lists and walks them back, for the log module's tests. */
final class TestSegments {
    static final int SEGLET_BYTES = 64 * 1024;

    private TestSegments() {
    }

    /**
     * A segment as written: its memory, the certificate of everything appended, and each
     * entry's offset and framed bytes as they were right after the append.
     */
    record Written(SegmentMemory memory, SegmentCertificate certificate, List<LogEntry> entries,
                   long[] offsets, List<byte[]> framed) {
        int framedLength(int index) {
            return framed.get(index).length;
        }
    }

    /** What an iterator delivered before it stopped. */
    record Scan(List<LogEntry> entries, List<byte[]> framed, int result, Corruption corruption) {
        /** True when every delivered entry is byte-identical to the corresponding written one. */
        boolean isPrefixOf(Written written) {
            if (framed.size() > written.framed().size()) {
                return false;
            }
            for (int i = 0; i < framed.size(); i++) {
                if (!Arrays.equals(framed.get(i), written.framed().get(i))) {
                    return false;
                }
            }
            return true;
        }
    }

    /** A seglet source over an arena that hands out at most {@code limit} seglets, then null. */
    static final class CountingSource implements SegmentWriter.SegletSource {
        private final Arena arena;
        private final int segletBytes;
        private int remaining;
        private int handedOut;

        CountingSource(Arena arena, int segletBytes, int limit) {
            this.arena = arena;
            this.segletBytes = segletBytes;
            this.remaining = limit;
        }

        @Override
        public MemorySegment allocateSeglet() {
            if (remaining == 0) {
                return null;
            }
            remaining--;
            handedOut++;
            return arena.allocate(segletBytes);
        }

        void allow(int more) {
            remaining += more;
        }

        int handedOut() {
            return handedOut;
        }
    }

    /** Appends every entry; fails the test if one does not fit. */
    static Written write(SegmentWriter writer, List<LogEntry> entries) {
        long[] offsets = new long[entries.size()];
        List<byte[]> framed = new ArrayList<>(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            int before = writer.position();
            long offset = entries.get(i).appendTo(writer);
            assertThat(offset).as("offset of entry %d: %s", i, entries.get(i)).isEqualTo(before);
            offsets[i] = offset;
            framed.add(bytes(writer.memory(), offset, writer.position() - before));
        }
        return new Written(writer.memory(), writer.certificate(), List.copyOf(entries), offsets, framed);
    }

    /** A fresh writer over an empty segment that grows from {@code arena}. */
    static SegmentWriter writer(Arena arena, int segletBytes, int capacityBytes) {
        int maxSeglets = Math.ceilDiv(capacityBytes, segletBytes);
        return new SegmentWriter(new SegmentMemory(maxSeglets, segletBytes), capacityBytes,
                () -> arena.allocate(segletBytes));
    }

    static byte[] bytes(SegmentMemory memory, long offset, int length) {
        byte[] copy = new byte[length];
        memory.copyTo(offset, copy, 0, length);
        return copy;
    }

    /** The first {@code lengthBytes} of {@code memory} as one contiguous segment. */
    static SegmentMemory contiguousCopy(Arena arena, SegmentMemory memory, long lengthBytes) {
        MemorySegment copy = arena.allocate(Math.max(1, lengthBytes)).asSlice(0, lengthBytes);
        memory.copyTo(0, copy, 0, lengthBytes);
        return SegmentMemory.contiguous(copy);
    }

    /**
     * Walks {@code iterator} to its end, failing the test if it takes more steps than there
     * could be entries (every entry is at least 6 bytes) or returns anything but the three codes.
     */
    static Scan scan(SegmentIterator iterator, long limitBytes) {
        List<LogEntry> entries = new ArrayList<>();
        List<byte[]> framed = new ArrayList<>();
        long maxSteps = limitBytes / 6 + 2;
        for (long step = 0; step <= maxSteps; step++) {
            int result = iterator.next();
            switch (result) {
                case SegmentIterator.ENTRY -> {
                    assertThat(iterator.entryOffset() + iterator.framedLength()).isLessThanOrEqualTo(limitBytes);
                    entries.add(LogEntry.read(iterator));
                    framed.add(bytes(iterator.memory(), iterator.entryOffset(), iterator.framedLength()));
                }
                case SegmentIterator.END, SegmentIterator.CORRUPT -> {
                    // Both are final: asking again must give the same answer.
                    assertThat(iterator.next()).isEqualTo(result);
                    return new Scan(entries, framed, result, iterator.corruption());
                }
                default -> fail("iterator returned " + result);
            }
        }
        return fail("iterator did not stop within " + maxSteps + " steps over " + limitBytes + " bytes");
    }

    static byte[] randomBytes(SplittableRandom random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    static byte[] randomBytes(long seed, int length) {
        return randomBytes(new SplittableRandom(seed), length);
    }

    /** An object or a tombstone with random fields, key 1..maxKey bytes, value 0..maxValue bytes. */
    static LogEntry randomBodyEntry(SplittableRandom random, int maxKeyBytes, int maxValueBytes) {
        byte[] key = randomBytes(random, 1 + random.nextInt(maxKeyBytes));
        if (random.nextInt(4) == 0) {
            return new LogEntry.Tombstone(randomId(random), randomId(random), randomId(random), key);
        }
        return new LogEntry.ObjectEntry(randomId(random), randomId(random), random.nextLong(1L << 32), key,
                randomBytes(random, random.nextInt(maxValueBytes + 1)));
    }

    /** Ids that exercise every varint width: small, mid-sized and full 64-bit (negative) values. */
    static long randomId(SplittableRandom random) {
        return switch (random.nextInt(4)) {
            case 0 -> random.nextLong(128);
            case 1 -> random.nextLong(1L << 35);
            case 2 -> random.nextLong();
            default -> random.nextBoolean() ? Long.MAX_VALUE : -1L;
        };
    }

    /** Header, digest, table stats and safe version: the metadata that opens a segment. */
    static List<LogEntry> openingEntries(SplittableRandom random, long segmentId, int capacityBytes) {
        long[] digest = new long[random.nextInt(12)];
        for (int i = 0; i < digest.length; i++) {
            digest[i] = randomId(random);
        }
        int tables = random.nextInt(6);
        long[] tableIds = new long[tables];
        long[] bytes = new long[tables];
        long[] objects = new long[tables];
        for (int i = 0; i < tables; i++) {
            tableIds[i] = randomId(random);
            bytes[i] = randomId(random);
            objects[i] = randomId(random);
        }
        return List.of(new LogEntry.Header(randomId(random), segmentId, capacityBytes),
                new LogEntry.Digest(digest),
                new LogEntry.Stats(tableIds, bytes, objects),
                new LogEntry.SafeVersion(randomId(random)));
    }
}
