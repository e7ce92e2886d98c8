package io.ferrite.proto;

/**
 * Aeron stream ids of replication (messages in {@code src/main/sbe/replication.xml}): the one
 * place master and backup take them from.
 */
public final class ReplicationStreams {
    /** Master-to-backup messages, on the backup's UDP channel. */
    public static final int REQUESTS = 7101;
    /** Backup-to-master answers, on the UDP channel the master names in its opens. */
    public static final int REPLIES = 7102;

    private ReplicationStreams() {
    }

    /**
     * Where messages go: an Aeron channel and stream. On {@code aeron:udp} the stream is
     * {@link #REQUESTS} or {@link #REPLIES}; on {@code aeron:ipc} (sender and receiver share a
     * media driver) each receiver has a stream of its own, as IPC has no endpoints.
     */
    public record Endpoint(String channel, int streamId) {
        public Endpoint {
            if (channel == null || !channel.startsWith("aeron:")) {
                throw new IllegalArgumentException("not an Aeron channel: " + channel);
            }
        }

        /** Whether this endpoint is reached through the media driver's shared memory. */
        public boolean ipc() {
            return channel.startsWith("aeron:ipc");
        }
    }
}
