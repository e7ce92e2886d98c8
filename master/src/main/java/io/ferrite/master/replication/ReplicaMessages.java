package io.ferrite.master.replication;

import io.ferrite.log.SegmentMemory;
import io.ferrite.proto.ReplicationStreams;
import io.ferrite.proto.replication.AppendReplicaEncoder;
import io.ferrite.proto.replication.CloseReplicaEncoder;
import io.ferrite.proto.replication.FreeReplicaEncoder;
import io.ferrite.proto.replication.MessageHeaderEncoder;
import io.ferrite.proto.replication.OpenReplicaEncoder;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Encodes the master's replication messages (SBE, schema {@code replication.xml}) into one
 * off-heap send buffer. An append's log bytes are copied straight from the segment's memory
 * into the message, with no copy in between. Owned by one thread; allocates nothing per message.
 *
 * <p>Each {@code encode*} method returns the message's length in {@link #buffer()}, from 0.
 */
public final class ReplicaMessages {
    /** Room for a message header and an append's fixed fields before its bytes. */
    static final int OVERHEAD_BYTES = 256;

    private final ByteBuffer direct;
    private final UnsafeBuffer buffer;
    private final MemorySegment memory;
    private final int maxChunkBytes;
    private final MessageHeaderEncoder header = new MessageHeaderEncoder();
    private final OpenReplicaEncoder open = new OpenReplicaEncoder();
    private final AppendReplicaEncoder append = new AppendReplicaEncoder();
    private final CloseReplicaEncoder close = new CloseReplicaEncoder();
    private final FreeReplicaEncoder free = new FreeReplicaEncoder();
    private long correlation;

    /** @param maxChunkBytes most log bytes in one append */
    public ReplicaMessages(int maxChunkBytes) {
        this.maxChunkBytes = maxChunkBytes;
        this.direct = ByteBuffer.allocateDirect(maxChunkBytes + OVERHEAD_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        this.buffer = new UnsafeBuffer(direct);
        this.memory = MemorySegment.ofBuffer(direct);
    }

    public UnsafeBuffer buffer() {
        return buffer;
    }

    public int maxChunkBytes() {
        return maxChunkBytes;
    }

    public int encodeOpen(long masterId, long segmentId, long epoch, int capacityBytes,
                          ReplicationStreams.Endpoint reply) {
        open.wrapAndApplyHeader(buffer, 0, header)
                .masterId(masterId)
                .segmentId(segmentId)
                .epoch(epoch)
                .capacityBytes(capacityBytes)
                .correlationId(++correlation)
                .replyStreamId(reply.streamId())
                .replyChannel(reply.channel());
        return MessageHeaderEncoder.ENCODED_LENGTH + open.encodedLength();
    }

    /**
     * An append of {@code length} bytes of {@code source} from {@code offset}; a certificate
     * (length &gt; 0) tells the backup which prefix it may now trust and acknowledge.
     */
    public int encodeAppend(long masterId, long segmentId, long epoch, SegmentMemory source, int offset, int length,
                            int certificateLength, int certificateChecksum) {
        if (length > maxChunkBytes) {
            throw new IllegalArgumentException("append of " + length + " bytes over the chunk limit " + maxChunkBytes);
        }
        append.wrapAndApplyHeader(buffer, 0, header)
                .masterId(masterId)
                .segmentId(segmentId)
                .epoch(epoch)
                .replicaOffset(offset)
                .certificateLength(certificateLength)
                .certificateChecksum(certificateChecksum)
                .correlationId(++correlation);
        int limit = append.limit();
        buffer.putInt(limit, length, ByteOrder.LITTLE_ENDIAN);
        source.copyTo(offset, memory, limit + AppendReplicaEncoder.bytesHeaderLength(), length);
        append.limit(limit + AppendReplicaEncoder.bytesHeaderLength() + length);
        return MessageHeaderEncoder.ENCODED_LENGTH + append.encodedLength();
    }

    public int encodeClose(long masterId, long segmentId, long epoch, int certificateLength, int certificateChecksum) {
        close.wrapAndApplyHeader(buffer, 0, header)
                .masterId(masterId)
                .segmentId(segmentId)
                .epoch(epoch)
                .certificateLength(certificateLength)
                .certificateChecksum(certificateChecksum)
                .correlationId(++correlation);
        return MessageHeaderEncoder.ENCODED_LENGTH + close.encodedLength();
    }

    public int encodeFree(long masterId, long segmentId) {
        free.wrapAndApplyHeader(buffer, 0, header)
                .masterId(masterId)
                .segmentId(segmentId)
                .correlationId(++correlation);
        return MessageHeaderEncoder.ENCODED_LENGTH + free.encodedLength();
    }
}
