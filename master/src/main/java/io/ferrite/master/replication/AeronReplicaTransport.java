package io.ferrite.master.replication;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.ferrite.proto.ReplicationStreams;
import java.util.ArrayList;
import java.util.List;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * {@link ReplicaTransport} over Aeron: an exclusive publication per backup (its UDP channel, or
 * its IPC stream when both share a media driver) and a subscription per reply endpoint of this
 * master. Answers larger than one frame are reassembled.
 */
public final class AeronReplicaTransport implements ReplicaTransport {
    private final Aeron aeron;
    private final ReplicationStreams.Endpoint udpReply;
    private final ReplicationStreams.Endpoint ipcReply;
    private final List<Subscription> replies = new ArrayList<>();
    private final Long2ObjectHashMap<ExclusivePublication> publications = new Long2ObjectHashMap<>();
    private final FragmentAssembler assembler = new FragmentAssembler(this::onFragment);
    private ReplyHandler handler;

    /**
     * @param udpReply where backups reached over UDP answer
     * @param ipcReply where backups reached over IPC answer, or null if no backup shares this
     *                 master's media driver
     */
    public AeronReplicaTransport(Aeron aeron, ReplicationStreams.Endpoint udpReply,
                                 ReplicationStreams.Endpoint ipcReply) {
        this.aeron = aeron;
        this.udpReply = udpReply;
        this.ipcReply = ipcReply;
        for (ReplicationStreams.Endpoint reply : ipcReply == null ? List.of(udpReply) : List.of(udpReply, ipcReply)) {
            replies.add(aeron.addSubscription(reply.channel(), reply.streamId()));
        }
    }

    @Override
    public int offer(ReplicaManager.Backup backup, DirectBuffer buffer, int offset, int length) {
        ExclusivePublication publication = publications.get(backup.serverId());
        if (publication == null) {
            publication = aeron.addExclusivePublication(backup.endpoint().channel(), backup.endpoint().streamId());
            publications.put(backup.serverId(), publication);
        }
        long result = publication.offer(buffer, offset, length);
        if (result > 0) {
            return SENT;
        }
        return result == Publication.BACK_PRESSURED || result == Publication.ADMIN_ACTION ? BACK_PRESSURED
                : NOT_CONNECTED;
    }

    @Override
    public int pollReplies(ReplyHandler handler, int limit) {
        this.handler = handler;
        int polled = 0;
        for (int i = 0; i < replies.size(); i++) {
            polled += replies.get(i).poll(assembler, limit);
        }
        return polled;
    }

    private void onFragment(DirectBuffer buffer, int offset, int length, io.aeron.logbuffer.Header header) {
        handler.onReply(buffer, offset, length);
    }

    @Override
    public ReplicationStreams.Endpoint replyEndpoint(ReplicaManager.Backup backup) {
        return backup.endpoint().ipc() && ipcReply != null ? ipcReply : udpReply;
    }

    @Override
    public void close() {
        publications.values().forEach(ExclusivePublication::close);
        replies.forEach(Subscription::close);
    }
}
