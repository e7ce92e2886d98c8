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
import io.ferrite.proto.replication.CloseReplicaEncoder;
import io.ferrite.proto.replication.FreeReplicaEncoder;
import io.ferrite.proto.replication.MessageHeaderDecoder;
import io.ferrite.proto.replication.MessageHeaderEncoder;
import io.ferrite.proto.replication.OpenReplicaEncoder;
import io.ferrite.proto.replication.RejectReason;
import io.ferrite.proto.replication.ReplicaAckDecoder;
import io.ferrite.proto.replication.ReplicaRejectDecoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backup admits each replication message by looking at the cluster view at that moment: once
 * the view shows a master CRASHED (here: the predicate the server backs with its watch-refreshed
 * ZooKeeper cache), its appends, opens and closes are refused (NOT_IN_CLUSTER) and its frees are
 * dropped, so its replicas stay for recovery; a master fenced by hand ({@link BackupService#fence},
 * what recovery calls) is refused whatever the view says. Driven by hand: {@code doWork()} on
 * the test's thread, no runner.
 */
class BackupFencingTest {
    private static final long MASTER = 3L << 32 | 1;
    private static final long OTHER = 5L << 32 | 1;
    private static final String REQUESTS = "aeron:ipc?alias=fencing-requests";
    private static final String REPLIES = "aeron:ipc?alias=fencing-replies";

    @TempDir
    Path dir;

    /** An answer: ack (reason null) or reject, for a segment. */
    private record Answer(long segmentId, RejectReason reason) {
    }

    private final Set<Long> up = ConcurrentHashMap.newKeySet();
    private final List<Answer> answers = new ArrayList<>();
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
    private final MessageHeaderEncoder header = new MessageHeaderEncoder();

    @Test
    void appendsOpensClosesAndFreesOfACrashedMasterAreRefusedMessageByMessage() throws Exception {
        MediaDriver.Context driverContext = new MediaDriver.Context().aeronDirectoryName(dir.resolve("aeron").toString())
                .threadingMode(ThreadingMode.SHARED).dirDeleteOnStart(true).dirDeleteOnShutdown(true);
        CachedNanoClock clock = new CachedNanoClock();
        up.add(MASTER);
        up.add(OTHER);
        try (MediaDriver driver = MediaDriver.launchEmbedded(driverContext);
             Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
             ReplicaStore store = new ReplicaStore(dir.resolve("buffers"), dir.resolve("backup"), 8);
             BackupService backup = new BackupService(aeron,
                     List.of(new ReplicationStreams.Endpoint(REQUESTS, ReplicationStreams.REQUESTS)), store,
                     () -> 9L << 32, up::contains, BackupService.MasterDirectory.NONE, 0, clock);
             ExclusivePublication requests = aeron.addExclusivePublication(REQUESTS, ReplicationStreams.REQUESTS);
             Subscription replies = aeron.addSubscription(REPLIES, ReplicationStreams.REPLIES)) {
            FragmentAssembler handler = new FragmentAssembler(this::onAnswer);

            // While UP: open, append and a certified prefix are accepted.
            send(backup, requests, replies, handler, open(MASTER, 1));
            send(backup, requests, replies, handler, append(MASTER, 1, 0, 64));
            send(backup, requests, replies, handler, open(MASTER, 2));
            assertThat(answers).containsExactly(new Answer(1, null), new Answer(1, null), new Answer(2, null));
            answers.clear();

            // The view now shows the master CRASHED: every later message is refused.
            up.remove(MASTER);
            send(backup, requests, replies, handler, append(MASTER, 1, 64, 64));
            send(backup, requests, replies, handler, open(MASTER, 3));
            send(backup, requests, replies, handler, close(MASTER, 2));
            assertThat(answers).containsExactly(new Answer(1, RejectReason.NOT_IN_CLUSTER),
                    new Answer(3, RejectReason.NOT_IN_CLUSTER), new Answer(2, RejectReason.NOT_IN_CLUSTER));
            offer(requests, free(MASTER, 1));
            offer(requests, free(MASTER, 2));
            awaitProcessed(backup, 2);
            assertThat(backup.refusedFrees()).isEqualTo(2);
            assertThat(store.list(MASTER)).as("kept for recovery, as they were").extracting(ReplicaInfo::segmentId)
                    .containsExactly(1L, 2L);
            assertThat(store.list(MASTER).getFirst().lengthBytes()).as("the refused append changed nothing")
                    .isEqualTo(64);
            answers.clear();

            // Fenced by hand (recovery): refused although the view still shows it UP.
            send(backup, requests, replies, handler, open(OTHER, 1));
            backup.fence(OTHER);
            send(backup, requests, replies, handler, append(OTHER, 1, 0, 64));
            offer(requests, free(OTHER, 1));
            awaitProcessed(backup, 1);
            assertThat(answers).containsExactly(new Answer(1, null), new Answer(1, RejectReason.NOT_IN_CLUSTER));
            assertThat(store.list(OTHER)).hasSize(1);
            assertThat(backup.refusedFrees()).isEqualTo(3);
        }
    }

    private void onAnswer(org.agrona.DirectBuffer b, int offset, int length, io.aeron.logbuffer.Header h) {
        MessageHeaderDecoder decoder = new MessageHeaderDecoder().wrap(b, offset);
        int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        if (decoder.templateId() == ReplicaAckDecoder.TEMPLATE_ID) {
            ReplicaAckDecoder ack = new ReplicaAckDecoder().wrap(b, body, decoder.blockLength(), decoder.version());
            answers.add(new Answer(ack.segmentId(), null));
        } else if (decoder.templateId() == ReplicaRejectDecoder.TEMPLATE_ID) {
            ReplicaRejectDecoder reject = new ReplicaRejectDecoder().wrap(b, body, decoder.blockLength(),
                    decoder.version());
            answers.add(new Answer(reject.segmentId(), reject.reason()));
        }
    }

    /** Sends one message and runs the backup's duty cycle until it is answered. */
    private void send(BackupService backup, ExclusivePublication requests, Subscription replies,
                      FragmentAssembler handler, int length) {
        int before = answers.size();
        offer(requests, length);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (answers.size() == before) {
            assertThat(System.nanoTime()).as("answered within 20 s").isLessThan(deadline);
            backup.doWork();
            replies.poll(handler, 10);
        }
    }

    /** Runs the duty cycle until {@code count} more messages were received (frees have no answer). */
    private static void awaitProcessed(BackupService backup, int count) {
        long target = backup.messages() + count;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (backup.messages() < target) {
            assertThat(System.nanoTime()).as("received within 20 s").isLessThan(deadline);
            backup.doWork();
        }
    }

    private int open(long master, long segment) {
        return new OpenReplicaEncoder().wrapAndApplyHeader(buffer, 0, header).masterId(master).segmentId(segment)
                .epoch(1).capacityBytes(1 << 16).correlationId(segment).replyStreamId(ReplicationStreams.REPLIES)
                .replyChannel(REPLIES).encodedLength() + MessageHeaderEncoder.ENCODED_LENGTH;
    }

    private int append(long master, long segment, int offset, int bytes) {
        return new AppendReplicaEncoder().wrapAndApplyHeader(buffer, 0, header).masterId(master).segmentId(segment)
                .epoch(1).replicaOffset(offset).certificateLength(0).certificateChecksum(0).correlationId(segment)
                .putBytes(new byte[bytes], 0, bytes).encodedLength() + MessageHeaderEncoder.ENCODED_LENGTH;
    }

    private int close(long master, long segment) {
        return new CloseReplicaEncoder().wrapAndApplyHeader(buffer, 0, header).masterId(master).segmentId(segment)
                .epoch(1).certificateLength(0).certificateChecksum(0).correlationId(segment).encodedLength()
                + MessageHeaderEncoder.ENCODED_LENGTH;
    }

    private int free(long master, long segment) {
        return new FreeReplicaEncoder().wrapAndApplyHeader(buffer, 0, header).masterId(master).segmentId(segment)
                .correlationId(segment).encodedLength() + MessageHeaderEncoder.ENCODED_LENGTH;
    }

    private void offer(ExclusivePublication publication, int length) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (publication.offer(buffer, 0, length) < 0) {
            assertThat(System.nanoTime()).as("publication accepts within 20 s").isLessThan(deadline);
            Thread.onSpinWait();
        }
    }
}
