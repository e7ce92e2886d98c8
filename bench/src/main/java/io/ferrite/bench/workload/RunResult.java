package io.ferrite.bench.workload;

import io.ferrite.master.EngineStats;

/**
 * The outcome of one (workload, live share) run.
 *
 * @param workload        the workload
 * @param liveShare       target live entry bytes over memory
 * @param runSeed         seed of this run's random choices
 * @param memoryBytes     engine memory
 * @param writtenMultiple the stop condition: key plus value bytes written over memory
 * @param completed       false if the run stopped early (an operation kept getting RETRY, or an error)
 * @param error           why the run failed, or null
 * @param counts          operation counts
 * @param timing          phase durations
 * @param stats           engine statistics at the end of the writes (null if the run failed before)
 * @param verification    the read-back check (null if the run failed before)
 */
public record RunResult(Workload workload, double liveShare, long runSeed, long memoryBytes, double writtenMultiple,
                        boolean completed, String error, Counts counts, Timing timing, EngineStats stats,
                        Verification verification) {

    /**
     * Operation counts of a run.
     *
     * @param writes                write operations that succeeded (new keys and overwrites)
     * @param removes               remove operations that succeeded
     * @param retries               RETRY statuses received (each followed by a wait and the same operation again)
     * @param awaitTimeouts         waits for free memory that timed out (1 s each)
     * @param maxStallNs            longest time one operation spent getting RETRY before it succeeded
     * @param keyValueBytesWritten  key plus value bytes of the successful writes
     * @param afterPhaseWrites      writes of the after-phase (or of the overwrite phase of W1)
     * @param objects               live keys at the end
     */
    public record Counts(long writes, long removes, long retries, long awaitTimeouts, long maxStallNs,
                         long keyValueBytesWritten, long afterPhaseWrites, long objects) {
    }

    /**
     * Phase durations of a run (verification excluded).
     *
     * @param totalNs  fill, delete and after-phase
     * @param fillNs   the fill
     * @param deleteNs the deletes
     * @param afterNs  the after-phase
     */
    public record Timing(long totalNs, long fillNs, long deleteNs, long afterNs) {
        public double seconds() {
            return totalNs / 1e9;
        }
    }

    /**
     * The read-back check after a run.
     *
     * @param liveChecked    live keys read back
     * @param removedChecked removed keys read back (must be absent)
     * @param mismatches     keys whose read did not match
     * @param firstMismatch  the first mismatch, or null
     */
    public record Verification(int liveChecked, int removedChecked, int mismatches, String firstMismatch) {
        public boolean passed() {
            return mismatches == 0;
        }
    }

    /** Successful writes (removes excluded) per second of the whole run (fill, delete, after-phase). */
    public double writesPerSec() {
        return timing.totalNs() == 0 ? 0 : counts.writes() / (timing.totalNs() / 1e9);
    }

    /** Writes per second of the after-phase alone (the steady state, with cleaning). */
    public double afterPhaseWritesPerSec() {
        return timing.afterNs() == 0 ? 0 : counts.afterPhaseWrites() / (timing.afterNs() / 1e9);
    }

    /** Key plus value bytes written over memory, as reached. */
    public double writtenMultipleReached() {
        return (double) counts.keyValueBytesWritten() / memoryBytes;
    }
}
