package io.ferrite.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.ferrite.proto.ReplicationStreams;
import io.ferrite.proto.replication.AppendReplicaEncoder;
import io.ferrite.proto.replication.MessageHeaderDecoder;
import io.ferrite.proto.replication.MessageHeaderEncoder;
import io.ferrite.proto.replication.OpenReplicaEncoder;
import io.ferrite.proto.replication.RejectReason;
import io.ferrite.proto.replication.ReplicaAckDecoder;
import io.ferrite.proto.replication.ReplicaRejectDecoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BackupService} over a real embedded media driver (IPC): garbage and truncated
 * messages are dropped and the service keeps answering; an unknown master is refused.
 */
class BackupServiceTest {
    private static final long SEED = Long.getLong("ferrite.seed", 0xB5E_0001L);
    private static final long MASTER = 3L << 32 | 1;
    private static final String REQUESTS = "aeron:ipc?alias=backup-requests";
    private static final String REPLIES = "aeron:ipc?alias=backup-replies";

    @TempDir
    Path dir;

    /** An answer the test saw: template and, for rejections, the reason. */
    private record Answer(int template, long segmentId, RejectReason reason, long length) {
    }

    @Test
    void garbageIsDroppedTheServiceKeepsAnsweringAndUnknownMastersAreRefused() throws Exception {
        MediaDriver.Context driverContext = new MediaDriver.Context().aeronDirectoryName(dir.resolve("aeron").toString())
                .threadingMode(ThreadingMode.SHARED).dirDeleteOnStart(true).dirDeleteOnShutdown(true);
        try (MediaDriver driver = MediaDriver.launchEmbedded(driverContext);
             Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
             ReplicaStore store = new ReplicaStore(dir.resolve("buffers"), dir.resolve("backup"), 4);
             BackupService backup = new BackupService(aeron,
                     List.of(new ReplicationStreams.Endpoint(REQUESTS, ReplicationStreams.REQUESTS)), store, () -> 9L << 32, id -> id == MASTER);
             ExclusivePublication requests = aeron.addExclusivePublication(REQUESTS, ReplicationStreams.REQUESTS);
             Subscription replies = aeron.addSubscription(REPLIES, ReplicationStreams.REPLIES)) {
            List<Answer> answers = new ArrayList<>();
            MessageHeaderDecoder header = new MessageHeaderDecoder();
            ReplicaAckDecoder ack = new ReplicaAckDecoder();
            ReplicaRejectDecoder reject = new ReplicaRejectDecoder();
            FragmentAssembler handler = new FragmentAssembler((b, o, l, h) -> {
                header.wrap(b, o);
                int body = o + MessageHeaderDecoder.ENCODED_LENGTH;
                if (header.templateId() == ReplicaAckDecoder.TEMPLATE_ID) {
                    ack.wrap(b, body, header.blockLength(), header.version());
                    answers.add(new Answer(header.templateId(), ack.segmentId(), null, ack.bufferedLength()));
                } else if (header.templateId() == ReplicaRejectDecoder.TEMPLATE_ID) {
                    reject.wrap(b, body, header.blockLength(), header.version());
                    answers.add(new Answer(header.templateId(), reject.segmentId(), reject.reason(), 0));
                }
            });
            UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
            MessageHeaderEncoder encoder = new MessageHeaderEncoder();

            // Garbage: random bytes, a bare header, an append whose body is cut short.
            Random random = new Random(SEED);
            for (int i = 0; i < 50; i++) {
                byte[] junk = new byte[1 + random.nextInt(300)];
                random.nextBytes(junk);
                buffer.putBytes(0, junk);
                offer(requests, buffer, junk.length);
            }
            encoder.wrap(buffer, 0).blockLength(40).templateId(AppendReplicaEncoder.TEMPLATE_ID)
                    .schemaId(AppendReplicaEncoder.SCHEMA_ID).version(AppendReplicaEncoder.SCHEMA_VERSION);
            offer(requests, buffer, MessageHeaderEncoder.ENCODED_LENGTH + 3);
            // An append from the known master whose byte count claims far more than the message holds.
            int full = new AppendReplicaEncoder().wrapAndApplyHeader(buffer, 0, encoder).masterId(MASTER).segmentId(11)
                    .epoch(1).replicaOffset(0).certificateLength(0).certificateChecksum(0).correlationId(1)
                    .putBytes(new byte[16], 0, 16).encodedLength() + MessageHeaderEncoder.ENCODED_LENGTH;
            buffer.putInt(full - 16 - 4, Integer.MAX_VALUE, java.nio.ByteOrder.LITTLE_ENDIAN);
            offer(requests, buffer, full);

            // An open whose reply channel is not an Aeron channel: nobody to answer, nothing opened.
            int length = new OpenReplicaEncoder().wrapAndApplyHeader(buffer, 0, encoder).masterId(MASTER)
                    .segmentId(13).epoch(1).capacityBytes(1 << 20).correlationId(13)
                    .replyStreamId(ReplicationStreams.REPLIES).replyChannel("udp://nowhere").encodedLength()
                    + MessageHeaderEncoder.ENCODED_LENGTH;
            offer(requests, buffer, length);

            // Then a valid open from a known master, and one from an unknown master.
            length = open(buffer, encoder, MASTER, 11);
            offer(requests, buffer, length);
            length = open(buffer, encoder, MASTER + 1, 12);
            offer(requests, buffer, length);

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (answers.size() < 2 && System.nanoTime() < deadline) {
                if (replies.poll(handler, 10) == 0) {
                    Thread.onSpinWait();
                }
            }
            assertThat(answers).as("seed %d", SEED).containsExactly(
                    new Answer(ReplicaAckDecoder.TEMPLATE_ID, 11, null, 0),
                    new Answer(ReplicaRejectDecoder.TEMPLATE_ID, 12, RejectReason.NOT_IN_CLUSTER, 0));
            assertThat(store.list()).extracting(ReplicaInfo::segmentId).containsExactly(11L);
            assertThat(backup.messages()).isGreaterThanOrEqualTo(2);
            assertThat(backup.rejected()).as("only the unknown master; malformed messages are dropped").isEqualTo(1);
        }
    }

    private static int open(UnsafeBuffer buffer, MessageHeaderEncoder encoder, long master, long segment) {
        return new OpenReplicaEncoder().wrapAndApplyHeader(buffer, 0, encoder).masterId(master).segmentId(segment)
                .epoch(1).capacityBytes(1 << 20).correlationId(segment)
                .replyStreamId(ReplicationStreams.REPLIES).replyChannel(REPLIES).encodedLength()
                + MessageHeaderEncoder.ENCODED_LENGTH;
    }

    private static void offer(ExclusivePublication publication, UnsafeBuffer buffer, int length) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (publication.offer(buffer, 0, length) < 0) {
            assertThat(System.nanoTime()).as("publication accepts within 20 s").isLessThan(deadline);
            Thread.onSpinWait();
        }
    }
}
