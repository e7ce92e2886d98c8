package io.ferrite.master.replication;

import io.ferrite.proto.ReplicationStreams;
import org.agrona.DirectBuffer;

/**
 * How the replication agent reaches backups: one message out to a backup, answers in. The
 * production transport is Aeron ({@link AeronReplicaTransport}); tests use a fake that holds
 * messages and answers as a test script says.
 *
 * <p>Used by the agent's thread only.
 */
public interface ReplicaTransport extends AutoCloseable {
    /** The message went out. */
    int SENT = 1;
    /** The backup cannot take it now (back pressure): try again later. */
    int BACK_PRESSURED = 2;
    /** No connection to the backup (not yet, or no more). */
    int NOT_CONNECTED = 3;

    /**
     * Offers one message to a backup.
     *
     * @return {@link #SENT}, {@link #BACK_PRESSURED} or {@link #NOT_CONNECTED}
     */
    int offer(ReplicaManager.Backup backup, DirectBuffer buffer, int offset, int length);

    /**
     * Hands at most {@code limit} answers from backups to {@code handler}.
     *
     * @return the number handed over
     */
    int pollReplies(ReplyHandler handler, int limit);

    /** Where a backup should answer this master (its reply endpoint for that backup's transport). */
    ReplicationStreams.Endpoint replyEndpoint(ReplicaManager.Backup backup);

    @Override
    void close();

    /** Takes one whole answer from a backup. */
    @FunctionalInterface
    interface ReplyHandler {
        void onReply(DirectBuffer buffer, int offset, int length);
    }
}
