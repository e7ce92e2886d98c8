package io.ferrite.chaos.history;

import java.util.Map;
import java.util.TreeMap;

/**
 * What a store holds at the end of a run: read from the cluster, or reconstructed from the
 * certified replicas. A key missing from a map means "this source says nothing about it".
 *
 * @param registers register key to {@link Result.Found} or {@link Result.Absent}
 * @param counters  counter key to its value (absent counts as 0)
 */
public record FinalState(Map<String, Result> registers, Map<String, Long> counters) {

    /**
     * Validates and copies (sorted by key, for stable output).
     *
     * @param registers register states
     * @param counters  counter values
     */
    public FinalState {
        registers = java.util.Collections.unmodifiableMap(new TreeMap<>(registers));
        counters = java.util.Collections.unmodifiableMap(new TreeMap<>(counters));
        for (Map.Entry<String, Result> e : registers.entrySet()) {
            if (!(e.getValue() instanceof Result.Found) && !(e.getValue() instanceof Result.Absent)) {
                throw new IllegalArgumentException("register " + e.getKey() + ": not found/absent: " + e.getValue());
            }
        }
    }

    /**
     * A state that says nothing about any key.
     *
     * @return the empty state
     */
    public static FinalState empty() {
        return new FinalState(Map.of(), Map.of());
    }
}
