package io.ferrite.chaos.history;

/**
 * The linearizability verdict on one key.
 *
 * @param key            the key
 * @param verdict        linearizable, violation, or unknown (search budget exceeded)
 * @param operations     sub-operations checked on this key (failed ones and unknown reads dropped)
 * @param statesExplored search states the check visited
 * @param elapsedMs      how long the check took
 * @param explanation    for a violation or an unknown: text for humans; else empty
 */
public record KeyVerdict(String key, Verdict verdict, int operations, long statesExplored, double elapsedMs,
                         String explanation) {

    /** The outcome of checking one key. */
    public enum Verdict {
        /** A linearization exists. */
        LINEARIZABLE,
        /** No linearization exists (or the key's operations are malformed, e.g. mixed kinds). */
        VIOLATION,
        /** Unknown: search budget exceeded. Never counted as linearizable. */
        UNKNOWN
    }
}
