package io.ferrite.proto;

/**
 * Aeron stream ids of replication (messages in {@code src/main/sbe/replication.xml}): the one
 * place master and backup take them from.
 */
public final class ReplicationStreams {
    /** Master-to-backup messages, on the backup's channel. */
    public static final int REQUESTS = 7101;
    /** Backup-to-master answers, on the channel the master names in its opens. */
    public static final int REPLIES = 7102;

    private ReplicationStreams() {
    }
}
