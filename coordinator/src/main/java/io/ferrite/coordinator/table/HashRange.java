package io.ferrite.coordinator.table;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * An inclusive range {@code [start, end]} of the unsigned 64-bit key hash.
 *
 * @param start first hash in the range (unsigned)
 * @param end   last hash in the range (unsigned), not below {@code start}
 */
public record HashRange(long start, long end) {
    private static final BigInteger SPACE = BigInteger.ONE.shiftLeft(64);

    public HashRange {
        if (Long.compareUnsigned(start, end) > 0) {
            throw new IllegalArgumentException("empty range [" + Long.toUnsignedString(start) + ", "
                    + Long.toUnsignedString(end) + "]");
        }
    }

    /**
     * Splits the whole hash space {@code [0, 2^64-1]} into {@code count} contiguous ranges of
     * equal size (sizes differ by at most one hash when 2^64 does not divide evenly), in order.
     */
    public static List<HashRange> split(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be positive, got " + count);
        }
        List<HashRange> ranges = new ArrayList<>(count);
        BigInteger n = BigInteger.valueOf(count);
        for (int i = 0; i < count; i++) {
            long start = SPACE.multiply(BigInteger.valueOf(i)).divide(n).longValue();
            long end = SPACE.multiply(BigInteger.valueOf(i + 1L)).divide(n).subtract(BigInteger.ONE).longValue();
            ranges.add(new HashRange(start, end));
        }
        return ranges;
    }

    public boolean contains(long hash) {
        return Long.compareUnsigned(hash, start) >= 0 && Long.compareUnsigned(hash, end) <= 0;
    }

    @Override
    public String toString() {
        return "[" + Long.toUnsignedString(start) + ", " + Long.toUnsignedString(end) + "]";
    }
}
