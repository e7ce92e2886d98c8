package io.ferrite.master.replication;

import io.ferrite.proto.ReplicationStreams;
import io.ferrite.proto.replication.AppendReplicaDecoder;
import io.ferrite.proto.replication.BooleanType;
import io.ferrite.proto.replication.CloseReplicaDecoder;
import io.ferrite.proto.replication.FreeReplicaDecoder;
import io.ferrite.proto.replication.MessageHeaderDecoder;
import io.ferrite.proto.replication.MessageHeaderEncoder;
import io.ferrite.proto.replication.OpenReplicaDecoder;
import io.ferrite.proto.replication.RejectReason;
import io.ferrite.proto.replication.ReplicaAckEncoder;
import io.ferrite.proto.replication.ReplicaRejectEncoder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.LongPredicate;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A {@link ReplicaTransport} with backups in the test's own memory, kept as a real backup keeps
 * its replicas (DESIGN §4): appends strictly in order (a resend of bytes held writes only the
 * rest), a higher epoch replaces a replica, and an acknowledgement reports the <em>certified</em>
 * length. Nothing moves until the test says so: {@link #deliver} hands queued messages to their
 * backups, and the test chooses which are lost and which answers are withheld.
 */
final class FakeBackups implements ReplicaTransport {
    /** A replica as a backup holds it. */
    static final class Held {
        long epoch;
        byte[] bytes;
        int length;
        int certifiedLength;
        int certifiedChecksum;
        boolean closed;
    }

    /** One fake backup server. */
    static final class FakeBackup {
        final ReplicaManager.Backup identity;
        final ArrayDeque<byte[]> inbox = new ArrayDeque<>();
        final Map<Long, Held> replicas = new HashMap<>();
        final List<Long> freed = new ArrayList<>();
        boolean connected = true;
        /** Refuses every message as from a master not in the cluster (its view of the master is stale). */
        boolean refuseMaster;

        FakeBackup(long id) {
            this.identity = new ReplicaManager.Backup(id, new ReplicationStreams.Endpoint(
                    "aeron:udp?endpoint=127.0.0.1:" + (20_000 + id), ReplicationStreams.REQUESTS), "");
        }
    }

    private final Map<Long, FakeBackup> backups = new HashMap<>();
    private final ArrayDeque<byte[]> replies = new ArrayDeque<>();
    private final MessageHeaderDecoder header = new MessageHeaderDecoder();
    private final OpenReplicaDecoder open = new OpenReplicaDecoder();
    private final AppendReplicaDecoder append = new AppendReplicaDecoder();
    private final CloseReplicaDecoder close = new CloseReplicaDecoder();
    private final FreeReplicaDecoder free = new FreeReplicaDecoder();
    private final MessageHeaderEncoder replyHeader = new MessageHeaderEncoder();
    private final ReplicaAckEncoder ack = new ReplicaAckEncoder();
    private final ReplicaRejectEncoder reject = new ReplicaRejectEncoder();
    /** Throws from {@link #offer} for messages of these segments (a fault in the sender's path). */
    LongPredicate failOffersOf = segment -> false;
    long offers;
    /** Answers to appends of these segments are lost (the appends still arrive). */
    LongPredicate loseAppendAnswersOf = segment -> false;

    FakeBackups(long... ids) {
        for (long id : ids) {
            backups.put(id, new FakeBackup(id));
        }
    }

    FakeBackup backup(long id) {
        return backups.get(id);
    }

    List<ReplicaManager.Backup> live() {
        List<ReplicaManager.Backup> live = new ArrayList<>();
        for (FakeBackup b : backups.values()) {
            if (b.connected) {
                live.add(b.identity);
            }
        }
        live.sort((a, b) -> Long.compare(a.serverId(), b.serverId()));
        return live;
    }

    Iterable<FakeBackup> all() {
        return backups.values();
    }

    @Override
    public int offer(ReplicaManager.Backup backup, DirectBuffer buffer, int offset, int length) {
        offers++;
        FakeBackup b = backups.get(backup.serverId());
        if (b == null || !b.connected) {
            return NOT_CONNECTED;
        }
        header.wrap(buffer, offset);
        long segment = buffer.getLong(offset + MessageHeaderDecoder.ENCODED_LENGTH + 8, java.nio.ByteOrder.LITTLE_ENDIAN);
        if (failOffersOf.test(segment)) {
            throw new IllegalStateException("injected fault sending segment " + segment);
        }
        byte[] copy = new byte[length];
        buffer.getBytes(offset, copy);
        b.inbox.add(copy);
        return SENT;
    }

    /**
     * Hands every queued message to its backup, in order per backup; each is lost with
     * probability {@code lose}, and each answer with probability {@code loseAnswer}.
     */
    void deliver(Random random, double lose, double loseAnswer) {
        for (FakeBackup b : backups.values()) {
            byte[] message;
            while ((message = b.inbox.poll()) != null) {
                if (random.nextDouble() < lose) {
                    continue;
                }
                handle(b, message, random.nextDouble() >= loseAnswer);
            }
        }
    }

    /** Drops every queued message (the network lost them). */
    void loseAll() {
        backups.values().forEach(b -> b.inbox.clear());
    }

    private void handle(FakeBackup b, byte[] message, boolean answer) {
        UnsafeBuffer buffer = new UnsafeBuffer(message);
        header.wrap(buffer, 0);
        int body = MessageHeaderDecoder.ENCODED_LENGTH;
        if (b.refuseMaster && header.templateId() != FreeReplicaDecoder.TEMPLATE_ID) {
            long segmentId = buffer.getLong(body + 8, java.nio.ByteOrder.LITTLE_ENDIAN);
            long epoch = buffer.getLong(body + 16, java.nio.ByteOrder.LITTLE_ENDIAN);
            answerReject(b, answer, segmentId, epoch, RejectReason.NOT_IN_CLUSTER, 0);
            return;
        }
        switch (header.templateId()) {
            case OpenReplicaDecoder.TEMPLATE_ID -> {
                open.wrap(buffer, body, header.blockLength(), header.version());
                Held held = b.replicas.get(open.segmentId());
                if (held != null && held.epoch > open.epoch()) {
                    answerReject(b, answer, open.segmentId(), open.epoch(), RejectReason.STALE_EPOCH, held.length);
                    return;
                }
                if (held == null || held.epoch < open.epoch()) {
                    held = new Held();
                    held.epoch = open.epoch();
                    held.bytes = new byte[(int) open.capacityBytes()];
                    b.replicas.put(open.segmentId(), held);
                }
                answerAck(b, answer, open.segmentId(), held);
            }
            case AppendReplicaDecoder.TEMPLATE_ID -> {
                append.wrap(buffer, body, header.blockLength(), header.version());
                long segmentId = append.segmentId();
                Held held = b.replicas.get(segmentId);
                if (held == null || held.epoch != append.epoch()) {
                    answerReject(b, answer, segmentId, append.epoch(), RejectReason.UNKNOWN_REPLICA, 0);
                    return;
                }
                answer &= !loseAppendAnswersOf.test(segmentId);
                int offset = (int) append.replicaOffset();
                int certificateLength = (int) append.certificateLength();
                int certificateChecksum = (int) append.certificateChecksum();
                int count = append.bytesLength();
                byte[] bytes = new byte[count];
                append.getBytes(bytes, 0, count);
                if (offset > held.length || held.closed && offset + count > held.length) {
                    answerReject(b, answer, segmentId, held.epoch, RejectReason.OUT_OF_ORDER, held.length);
                    return;
                }
                if (offset + count > held.length) {
                    int skip = held.length - offset;
                    System.arraycopy(bytes, skip, held.bytes, held.length, count - skip);
                    held.length = offset + count;
                }
                if (certificateLength > held.certifiedLength && certificateLength <= held.length) {
                    held.certifiedLength = certificateLength;
                    held.certifiedChecksum = certificateChecksum;
                }
                answerAck(b, answer, segmentId, held);
            }
            case CloseReplicaDecoder.TEMPLATE_ID -> {
                close.wrap(buffer, body, header.blockLength(), header.version());
                Held held = b.replicas.get(close.segmentId());
                if (held == null || held.epoch != close.epoch()) {
                    answerReject(b, answer, close.segmentId(), close.epoch(), RejectReason.UNKNOWN_REPLICA, 0);
                    return;
                }
                if (held.length != close.certificateLength()) {
                    answerReject(b, answer, close.segmentId(), held.epoch, RejectReason.OUT_OF_ORDER, held.length);
                    return;
                }
                held.certifiedLength = (int) close.certificateLength();
                held.certifiedChecksum = (int) close.certificateChecksum();
                held.closed = true;
                answerAck(b, answer, close.segmentId(), held);
            }
            case FreeReplicaDecoder.TEMPLATE_ID -> {
                free.wrap(buffer, body, header.blockLength(), header.version());
                b.replicas.remove(free.segmentId());
                b.freed.add(free.segmentId());
            }
            default -> throw new AssertionError("unknown message template " + header.templateId());
        }
    }

    private void answerAck(FakeBackup b, boolean answer, long segmentId, Held held) {
        if (!answer) {
            return;
        }
        byte[] reply = new byte[128];
        UnsafeBuffer out = new UnsafeBuffer(reply);
        ack.wrapAndApplyHeader(out, 0, replyHeader)
                .backupId(b.identity.serverId())
                .segmentId(segmentId)
                .epoch(held.epoch)
                .bufferedLength(held.length)
                .closed(held.closed ? BooleanType.TRUE : BooleanType.FALSE)
                .certifiedLength(held.certifiedLength);
        replies.add(Arrays.copyOf(reply, MessageHeaderEncoder.ENCODED_LENGTH + ack.encodedLength()));
    }

    private void answerReject(FakeBackup b, boolean answer, long segmentId, long epoch, RejectReason reason,
                              int bufferedLength) {
        if (!answer) {
            return;
        }
        byte[] reply = new byte[128];
        UnsafeBuffer out = new UnsafeBuffer(reply);
        reject.wrapAndApplyHeader(out, 0, replyHeader)
                .backupId(b.identity.serverId())
                .segmentId(segmentId)
                .epoch(epoch)
                .reason(reason)
                .bufferedLength(bufferedLength);
        replies.add(Arrays.copyOf(reply, MessageHeaderEncoder.ENCODED_LENGTH + reject.encodedLength()));
    }

    @Override
    public int pollReplies(ReplyHandler handler, int limit) {
        int polled = 0;
        byte[] reply;
        while (polled < limit && (reply = replies.poll()) != null) {
            handler.onReply(new UnsafeBuffer(reply), 0, reply.length);
            polled++;
        }
        return polled;
    }

    @Override
    public ReplicationStreams.Endpoint replyEndpoint(ReplicaManager.Backup backup) {
        return new ReplicationStreams.Endpoint("aeron:udp?endpoint=127.0.0.1:19999", ReplicationStreams.REPLIES);
    }

    @Override
    public void close() {
    }
}
