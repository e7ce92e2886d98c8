package io.ferrite.bench.workload;

import java.util.SplittableRandom;

/**
 * Value sizes drawn uniformly from {@code [minBytes, maxBytes]}.
 *
 * @param minBytes smallest value, in bytes
 * @param maxBytes largest value, in bytes (inclusive)
 */
public record SizeRange(int minBytes, int maxBytes) {
    public SizeRange {
        if (minBytes < 0 || maxBytes < minBytes) {
            throw new IllegalArgumentException("bad size range " + minBytes + ".." + maxBytes);
        }
    }

    /** One fixed size. */
    public static SizeRange of(int bytes) {
        return new SizeRange(bytes, bytes);
    }

    public int sample(SplittableRandom random) {
        return minBytes == maxBytes ? minBytes : random.nextInt(minBytes, maxBytes + 1);
    }

    @Override
    public String toString() {
        return minBytes == maxBytes ? minBytes + " B" : minBytes + "-" + maxBytes + " B";
    }
}
