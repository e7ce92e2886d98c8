package io.ferrite.master;

import io.ferrite.master.cleaner.CleanerStats;

/**
 * A point-in-time view of a master's memory and log.
 *
 * @param liveEntryBytes      framed bytes of live objects and tombstones
 * @param liveKeyValueBytes   key plus value bytes of live objects
 * @param liveObjects         objects indexed
 * @param segletsTotal        seglets in the pool
 * @param segletsHeld         seglets the log holds (including those awaiting release)
 * @param hashTableBytes      off-heap bytes of the hash table
 * @param segments            segments in the log
 * @param tombstoneBytes      framed bytes of tombstones still in the log
 * @param cleaner             cleaner counters
 */
public record EngineStats(long liveEntryBytes, long liveKeyValueBytes, long liveObjects, int segletsTotal,
                          int segletsHeld, long hashTableBytes, int segments, long tombstoneBytes,
                          CleanerStats cleaner) {
    /** Live entry bytes over the bytes of seglets the log holds. */
    public double logUtilization() {
        return segletsHeld == 0 ? 0 : (double) liveEntryBytes / ((long) segletsHeld * 65_536);
    }

    /** Seglets held plus index, over live key and value bytes. */
    public double memoryPerLiveByte() {
        return liveKeyValueBytes == 0 ? 0 : ((double) segletsHeld * 65_536 + hashTableBytes) / liveKeyValueBytes;
    }

    public double indexBytesPerObject() {
        return liveObjects == 0 ? 0 : (double) hashTableBytes / liveObjects;
    }
}
