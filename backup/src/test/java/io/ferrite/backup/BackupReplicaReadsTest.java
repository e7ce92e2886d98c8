package io.ferrite.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.log.SegmentCertificate;
import io.ferrite.log.SegmentMemory;
import io.ferrite.log.SegmentWriter;
import io.ferrite.proto.v1.ListReplicasRequest;
import io.ferrite.proto.v1.ListReplicasResponse;
import io.ferrite.proto.v1.ReadReplicaRequest;
import io.ferrite.proto.v1.ReadReplicaResponse;
import io.ferrite.proto.v1.Status;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link BackupReplicaReads}: ListReplicas and ReadReplica answered from a real {@link ReplicaStore}. */
class BackupReplicaReadsTest {
    private static final long MASTER = 7L << 32 | 1;
    private static final long OTHER_MASTER = 8L << 32 | 1;
    private static final int CAPACITY = 1 << 20;

    @TempDir
    Path dir;

    /** A real segment's bytes and the certificate covering all of them. */
    private record Segment(byte[] bytes, SegmentCertificate certificate) {
    }

    private static Segment segment(long segmentId, int objects) {
        byte[] backing = new byte[CAPACITY];
        SegmentWriter writer = new SegmentWriter(SegmentMemory.contiguous(MemorySegment.ofArray(backing)), CAPACITY,
                null);
        writer.appendSegmentHeader(1, segmentId, CAPACITY);
        for (int i = 0; i < objects; i++) {
            byte[] key = ("key-" + i).getBytes(StandardCharsets.UTF_8);
            byte[] value = ("value-" + i).getBytes(StandardCharsets.UTF_8);
            writer.appendObject(1, key, 0, key.length, value, 0, value.length, i + 1, 0);
        }
        return new Segment(Arrays.copyOf(backing, writer.position()), writer.certificate());
    }

    private ReplicaStore store() throws IOException {
        return new ReplicaStore(dir.resolve("buffers"), dir.resolve("backup"), 4);
    }

    private static void replicate(ReplicaStore store, long segmentId, long epoch, Segment segment, boolean close) {
        assertThat(store.open(MASTER, segmentId, epoch, CAPACITY).ok()).isTrue();
        assertThat(store.append(MASTER, segmentId, epoch, 0, MemorySegment.ofArray(segment.bytes()),
                segment.certificate().lengthBytes(), segment.certificate().checksum()).ok()).isTrue();
        if (close) {
            assertThat(store.close(MASTER, segmentId, epoch, segment.certificate().lengthBytes(),
                    segment.certificate().checksum()).closed()).isTrue();
        }
    }

    private static ReadReplicaRequest read(long masterId, long segmentId) {
        return ReadReplicaRequest.newBuilder().setMasterId(masterId).setSegmentId(segmentId).build();
    }

    @Test
    void listsWhatItHoldsAndServesCertifiedBytes() throws IOException {
        Segment closed = segment(1, 20);
        Segment open = segment(2, 10);
        try (ReplicaStore store = store()) {
            replicate(store, 1, 1, closed, true);
            replicate(store, 2, 3, open, false);
            BackupReplicaReads reads = new BackupReplicaReads(store);

            ListReplicasResponse listed = reads.listReplicas(ListReplicasRequest.newBuilder().setMasterId(MASTER)
                    .build());
            assertThat(listed.getStatus()).isEqualTo(Status.OK);
            assertThat(listed.getReplicasList()).extracting(r -> r.getSegmentId(), r -> r.getEpoch(),
                    r -> r.getClosed(), r -> r.getCertificateLength()).containsExactly(
                    org.assertj.core.groups.Tuple.tuple(1L, 1L, true, closed.certificate().lengthBytes()),
                    org.assertj.core.groups.Tuple.tuple(2L, 3L, false, open.certificate().lengthBytes()));
            assertThat(listed.getReplicas(0).getMasterId()).isEqualTo(MASTER);
            assertThat(reads.listReplicas(ListReplicasRequest.getDefaultInstance()).getReplicasCount())
                    .as("master_id 0: every master's").isEqualTo(2);
            assertThat(reads.listReplicas(ListReplicasRequest.newBuilder().setMasterId(OTHER_MASTER).build())
                    .getReplicasList()).isEmpty();

            ReadReplicaResponse read = reads.readReplica(read(MASTER, 2));
            assertThat(read.getStatus()).isEqualTo(Status.OK);
            assertThat(read.getBytes().toByteArray()).isEqualTo(open.bytes());
            assertThat(read.getEpoch()).isEqualTo(3);
            assertThat(read.getClosed()).isFalse();
            assertThat(reads.readReplica(read(MASTER, 1)).getClosed()).isTrue();

            ReadReplicaResponse missing = reads.readReplica(read(MASTER, 9));
            assertThat(missing.getStatus()).isEqualTo(Status.OBJECT_DOESNT_EXIST);
            assertThat(missing.getMessage()).isEqualTo("no replica of segment 9 of master 7.1");
        }
    }

    @Test
    void aCorruptReplicaIsAnsweredCorruptNotServed() throws Exception {
        Segment closed = segment(1, 50);
        try (ReplicaStore store = store()) {
            replicate(store, 1, 1, closed, true);
            store.awaitFlushes(10, TimeUnit.SECONDS);
        }
        Path flushed;
        try (var files = Files.list(dir.resolve("backup"))) {
            flushed = files.filter(p -> p.toString().endsWith(".replica")).findFirst().orElseThrow();
        }
        try (FileChannel channel = FileChannel.open(flushed, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long at = ReplicaFile.HEADER_BYTES + closed.bytes().length / 2;
            ByteBuffer b = ByteBuffer.allocate(1);
            channel.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 0x5A));
            channel.write(b.rewind(), at);
        }
        try (ReplicaStore reloaded = store()) {
            reloaded.load();
            BackupReplicaReads reads = new BackupReplicaReads(reloaded);
            assertThat(reads.listReplicas(ListReplicasRequest.newBuilder().setMasterId(MASTER).build())
                    .getReplicas(0).getState()).isEqualTo("CORRUPT");
            ReadReplicaResponse read = reads.readReplica(read(MASTER, 1));
            assertThat(read.getStatus()).isEqualTo(Status.CORRUPT_REPLICA);
            assertThat(read.getBytes().isEmpty()).isTrue();
        }
    }

    @Test
    void withoutTheBackupServiceBothAreRefused() {
        BackupReplicaReads reads = new BackupReplicaReads(null);
        ListReplicasResponse listed = reads.listReplicas(ListReplicasRequest.getDefaultInstance());
        assertThat(listed.getStatus()).isEqualTo(Status.INVALID_ARGUMENT);
        assertThat(listed.getMessage()).isEqualTo("this server does not run the backup service");
        ReadReplicaResponse read = reads.readReplica(read(MASTER, 1));
        assertThat(read.getStatus()).isEqualTo(Status.INVALID_ARGUMENT);
        assertThat(read.getMessage()).isEqualTo("this server does not run the backup service");
    }
}
