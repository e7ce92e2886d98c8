package io.ferrite.chaos.history;

import java.util.List;

/**
 * The linearizability verdicts of one history, one per key.
 *
 * @param keys the verdicts, sorted by key
 */
public record LinearizabilityReport(List<KeyVerdict> keys) {

    /**
     * Copies.
     *
     * @param keys the verdicts
     */
    public LinearizabilityReport {
        keys = List.copyOf(keys);
    }

    /**
     * Keys with a violation.
     *
     * @return the count
     */
    public int violations() {
        return count(KeyVerdict.Verdict.VIOLATION);
    }

    /**
     * Keys whose search exceeded its budget.
     *
     * @return the count
     */
    public int unknown() {
        return count(KeyVerdict.Verdict.UNKNOWN);
    }

    /**
     * Whether every key is linearizable (unknown keys do not count as linearizable).
     *
     * @return true if all are
     */
    public boolean linearizable() {
        return count(KeyVerdict.Verdict.LINEARIZABLE) == keys.size();
    }

    /**
     * The verdict on one key.
     *
     * @param key the key
     * @return its verdict, or null if the history has no checked operation on it
     */
    public KeyVerdict verdict(String key) {
        return keys.stream().filter(k -> k.key().equals(key)).findFirst().orElse(null);
    }

    /**
     * The explanations of every violation and unknown, for humans.
     *
     * @return the text, empty if all keys are linearizable
     */
    public String explain() {
        final StringBuilder b = new StringBuilder();
        for (KeyVerdict k : keys) {
            if (k.verdict() != KeyVerdict.Verdict.LINEARIZABLE) {
                b.append(k.verdict()).append(' ').append(k.explanation()).append('\n');
            }
        }
        return b.toString();
    }

    private int count(KeyVerdict.Verdict v) {
        return (int) keys.stream().filter(k -> k.verdict() == v).count();
    }
}
