package io.ferrite.backup;

/**
 * What a backup holds of one segment of one master's log.
 *
 * @param masterId            the master's server id (index << 32 | generation)
 * @param segmentId           the segment's id in that master's log
 * @param epoch               the replica's epoch (a re-replicated segment has a higher one)
 * @param lengthBytes         bytes held
 * @param certificateLength   the committed prefix (bytes a reader may trust)
 * @param certificateChecksum CRC32C of the entry headers of that prefix
 * @param closed              whether the master closed the segment (the replica is complete)
 * @param state               where the replica is and whether it verified
 */
public record ReplicaInfo(long masterId, long segmentId, long epoch, int lengthBytes, int certificateLength,
                          int certificateChecksum, boolean closed, State state) {
    /** Where a replica is. */
    public enum State {
        /** In a memory-mapped buffer, still being written or waiting for its flush. */
        BUFFERED,
        /** Complete and forced to the backup directory. */
        FLUSHED,
        /** Failed verification at reload: reported, never served as good. */
        CORRUPT
    }
}
