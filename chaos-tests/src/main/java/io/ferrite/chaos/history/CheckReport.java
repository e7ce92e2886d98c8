package io.ferrite.chaos.history;

/**
 * The checkers' verdict on one run (first version: the checkers are being written).
 *
 * @param seed the run's seed
 */
public record CheckReport(long seed) {

    /**
     * Runs every checker on a run.
     *
     * @param seed      the run's seed
     * @param history   the history, with its faults
     * @param cluster   the final state read from the cluster
     * @param certified the final state rebuilt from the certified replicas
     * @return the report
     */
    public static CheckReport check(long seed, History history, FinalState cluster, FinalState certified) {
        throw new UnsupportedOperationException("checkers not written yet");
    }

    /**
     * Whether the run passed: nothing lost, no linearizability violation.
     *
     * @return true if passed
     */
    public boolean passed() {
        return false;
    }

    /**
     * A human explanation of every problem found.
     *
     * @return the text
     */
    public String explain() {
        return "";
    }

    /**
     * The report as one JSON object.
     *
     * @return the JSON
     */
    public String toJson() {
        return "{\"seed\":" + seed + "}";
    }
}
