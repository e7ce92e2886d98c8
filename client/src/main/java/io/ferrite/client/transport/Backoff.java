package io.ferrite.client.transport;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with jitter: attempt {@code n} waits a random time in
 * {@code [d/2, d]} where {@code d = min(max, min * 2^n)}.
 *
 * @param minNs first backoff
 * @param maxNs largest backoff
 */
public record Backoff(long minNs, long maxNs) {
    /**
     * Creates a backoff from durations.
     *
     * @param min first backoff
     * @param max largest backoff
     * @return the backoff
     */
    public static Backoff of(Duration min, Duration max) {
        return new Backoff(min.toNanos(), max.toNanos());
    }

    /**
     * The wait before a retry.
     *
     * @param attempt how many retries came before (0 for the first)
     * @return nanoseconds to wait
     */
    public long delayNs(int attempt) {
        long d = attempt >= 62 ? maxNs : Math.min(maxNs, minNs << Math.min(attempt, 30));
        if (d <= 0) {
            d = maxNs;
        }
        long half = d / 2;
        return half + ThreadLocalRandom.current().nextLong(d - half + 1);
    }
}
