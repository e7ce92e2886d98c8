package io.ferrite.master.snapshot;

import java.util.Arrays;

/**
 * One table's snapshot as one master holds it.
 *
 * @param tableId       the table
 * @param snapshotId    cluster-wide id the coordinator gave it
 * @param cut           the master's version counter at the snapshot: it sees versions below this
 * @param rangeStarts   first key hash (unsigned) of each tablet range the master owned then
 * @param rangeEnds     last key hash (inclusive) of each range
 * @param createdSeconds wall-clock time it was taken here (seconds since the epoch)
 * @param objects       the table's live objects on this master at the cut
 * @param bytes         their framed bytes
 */
public record Snapshot(long tableId, long snapshotId, long cut, long[] rangeStarts, long[] rangeEnds,
                       long createdSeconds, long objects, long bytes) {
    public Snapshot {
        if (rangeStarts.length != rangeEnds.length) {
            throw new IllegalArgumentException("range starts and ends differ in number");
        }
        rangeStarts = rangeStarts.clone();
        rangeEnds = rangeEnds.clone();
    }

    /** Whether the snapshot holds this key hash here. */
    public boolean covers(long keyHash) {
        for (int i = 0; i < rangeStarts.length; i++) {
            if (Long.compareUnsigned(keyHash, rangeStarts[i]) >= 0 && Long.compareUnsigned(keyHash, rangeEnds[i]) <= 0) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "snapshot " + snapshotId + " of table " + tableId + " (cut " + cut + ", " + rangeStarts.length
                + " ranges " + Arrays.toString(rangeStarts) + ")";
    }
}
