package io.ferrite.master.log;

import io.ferrite.log.SegmentCertificate;

/**
 * Where replication plugs into the log. The log calls these with its append lock held, in log
 * order: a segment is opened before any later one; a new head is opened before the old head
 * is closed; bytes up to a certificate are handed over before the write they hold is
 * acknowledged ({@link #sync}). None of them may block: they note what changed and return;
 * the caller waits for durability outside the lock (the replica manager's {@code whenDurable}).
 */
public interface ReplicationHook {
    /** A new segment exists (head or cleaner survivor); its replicas should be opened. */
    void segmentOpened(long segmentId);

    /**
     * Everything of the segment up to {@code lengthBytes} (certified by
     * {@code certificateChecksum}) must reach the backups before the caller acknowledges the
     * writes it holds. Returns at once: it hands the bytes over; acknowledging waits elsewhere.
     */
    void sync(long segmentId, int lengthBytes, int certificateChecksum);

    /** The segment is complete; {@code certificate} covers all of it. */
    void segmentClosed(long segmentId, SegmentCertificate certificate);

    /** The segment left the log (cleaned); backups may free their replicas. */
    void segmentFreed(long segmentId);

    /**
     * Whether every replica of a closed segment holds all of it (the cleaner leaves other
     * segments alone).
     */
    default boolean replicated(long segmentId) {
        return true;
    }

    /** Replication factor 0: the log lives in the master's memory only. */
    ReplicationHook NONE = new ReplicationHook() {
        @Override
        public void segmentOpened(long segmentId) {
        }

        @Override
        public void sync(long segmentId, int lengthBytes, int certificateChecksum) {
        }

        @Override
        public void segmentClosed(long segmentId, SegmentCertificate certificate) {
        }

        @Override
        public void segmentFreed(long segmentId) {
        }
    };
}
