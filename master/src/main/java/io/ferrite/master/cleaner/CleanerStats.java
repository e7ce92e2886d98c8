package io.ferrite.master.cleaner;

/**
 * Cumulative cleaner counters.
 *
 * @param compactions        segments compacted in memory
 * @param combinedPasses     combined cleaning passes committed
 * @param segmentsCleaned    source segments freed by combined cleaning
 * @param bytesMoved         live entry bytes copied
 * @param segletsFreed       seglets released back to the pool (net of survivors written)
 * @param tombstonesDropped  tombstones whose dead object's segment had left the log
 * @param cleaningTimeNs     time spent in cleaning passes
 * @param passesAborted      passes that ran out of memory part-way (their finished part was kept)
 */
public record CleanerStats(long compactions, long combinedPasses, long segmentsCleaned, long bytesMoved,
                           long segletsFreed, long tombstonesDropped, long cleaningTimeNs, long passesAborted) {
    /** Bytes copied for every byte of memory freed; lower is cheaper cleaning. */
    public double bytesMovedPerByteFreed() {
        return segletsFreed == 0 ? 0 : (double) bytesMoved / (segletsFreed * 65_536.0);
    }
}
