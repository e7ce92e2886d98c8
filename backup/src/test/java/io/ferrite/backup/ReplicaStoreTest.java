package io.ferrite.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ferrite.log.SegmentCertificate;
import io.ferrite.log.SegmentMemory;
import io.ferrite.log.SegmentWriter;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ReplicaStore} on real files: append rules, flush, reload after a restart, corruption. */
class ReplicaStoreTest {
    private static final long MASTER = 7L << 32 | 1;
    private static final int CAPACITY = 1 << 20;
    private static final long SEED = Long.getLong("ferrite.seed", 0xB0C_0001L);

    @TempDir
    Path dir;

    /** A real segment's bytes and the certificate covering all of them. */
    private record Seg(byte[] bytes, SegmentCertificate certificate) {
    }

    private static final java.util.Map<byte[], SegmentCertificate> CERTIFICATES = new java.util.IdentityHashMap<>();

    /** A real segment: header, objects; returns its bytes (see {@link #certificate}). */
    private static byte[] segment(long segmentId, int objects, Random random) {
        byte[] backing = new byte[CAPACITY];
        SegmentMemory memory = SegmentMemory.contiguous(MemorySegment.ofArray(backing));
        SegmentWriter writer = new SegmentWriter(memory, CAPACITY, null);
        writer.appendSegmentHeader(1, segmentId, CAPACITY);
        for (int i = 0; i < objects; i++) {
            byte[] key = ("key-" + i).getBytes(StandardCharsets.UTF_8);
            byte[] value = new byte[random.nextInt(200)];
            random.nextBytes(value);
            writer.appendObject(1, key, 0, key.length, value, 0, value.length, i + 1, 0);
        }
        byte[] bytes = Arrays.copyOf(backing, writer.position());
        CERTIFICATES.put(bytes, writer.certificate());
        return bytes;
    }

    /** The certificate the writer computed for these bytes (as a master sends it). */
    private static SegmentCertificate certificate(long segmentId, byte[] bytes) {
        return CERTIFICATES.get(bytes);
    }

    private ReplicaStore store(int buffers) throws IOException {
        return new ReplicaStore(dir.resolve("buffers"), dir.resolve("backup"), buffers);
    }

    private static ReplicaStore.Result append(ReplicaStore store, long segmentId, long epoch, int offset, byte[] bytes,
                                              int from, int to, SegmentCertificate certificate) {
        return store.append(MASTER, segmentId, epoch, offset, MemorySegment.ofArray(Arrays.copyOfRange(bytes, from, to)),
                certificate == null ? 0 : certificate.lengthBytes(), certificate == null ? 0 : certificate.checksum());
    }

    @Test
    void appendsInOrderOnlyAndResendsAreHarmless() throws IOException {
        Random random = new Random(SEED);
        byte[] bytes = segment(5, 50, random);
        try (ReplicaStore store = store(4)) {
            assertThat(store.open(MASTER, 5, 1, CAPACITY).ok()).isTrue();
            int half = bytes.length / 2;
            ReplicaStore.Result uncertified = append(store, 5, 1, 0, bytes, 0, half, null);
            assertThat(uncertified.lengthBytes()).isEqualTo(half);
            assertThat(uncertified.certifiedBytes())
                    .as("bytes without a certificate are held but not vouched for (acknowledged ⊆ certified)")
                    .isZero();
            assertThat(append(store, 5, 1, half + 1, bytes, half + 1, bytes.length, null).outcome())
                    .as("a gap").isEqualTo(ReplicaStore.Outcome.OUT_OF_ORDER);
            assertThat(append(store, 5, 1, 0, bytes, 0, half, null).outcome()).as("a resend")
                    .isEqualTo(ReplicaStore.Outcome.OK);
            assertThat(append(store, 5, 0, half, bytes, half, bytes.length, null).outcome()).as("an older epoch")
                    .isEqualTo(ReplicaStore.Outcome.STALE_EPOCH);
            assertThat(append(store, 5, 1, half - 10, bytes, half - 10, bytes.length, certificate(5, bytes))
                    .certifiedBytes()).as("a resend overlapping what is held: only the rest is written, then certified")
                    .isEqualTo(bytes.length);
            assertThat(store.read(MASTER, 5).orElseThrow()).isEqualTo(bytes);
            assertThat(store.open(MASTER, 5, 0, CAPACITY).outcome()).isEqualTo(ReplicaStore.Outcome.STALE_EPOCH);
            assertThat(store.open(MASTER, 6, 1, 0).outcome()).as("capacity checked").isEqualTo(ReplicaStore.Outcome.TOO_LARGE);
        }
    }

    @Test
    void beyondItsBuffersABackupRefusesOpens() throws IOException {
        try (ReplicaStore store = store(2)) {
            assertThat(store.open(MASTER, 1, 1, CAPACITY).ok()).isTrue();
            assertThat(store.open(MASTER, 2, 1, CAPACITY).ok()).isTrue();
            assertThat(store.open(MASTER, 3, 1, CAPACITY).outcome()).isEqualTo(ReplicaStore.Outcome.NO_BUFFER_FREE);
            store.free(MASTER, 1);
            assertThat(store.open(MASTER, 3, 1, CAPACITY).ok()).isTrue();
        }
    }

    /**
     * After a restart, reconciliation with a master that keeps its log fully replicated
     * elsewhere drops the reloaded replicas it does not list here (releasing their buffers); one
     * it claimed again since the question (reopened at its epoch), one it lists under a previous
     * generation of this server, a corrupt one, one above the answer's highest segment, and
     * another master's all stay. A freed segment (not listed at all) goes even while the log is
     * not fully replicated.
     */
    @Test
    void reconciliationDropsOnlyWhatTheMasterNoLongerKeepsHere() throws IOException {
        Random random = new Random(SEED);
        long other = MASTER + (1L << 32);
        long self = 9L << 32 | 2;
        long pastSelf = 9L << 32 | 1;
        try (ReplicaStore store = store(8)) {
            for (long segment = 1; segment <= 6; segment++) {
                byte[] bytes = segment(segment, 5, random);
                assertThat(store.open(MASTER, segment, 1, CAPACITY).ok()).isTrue();
                assertThat(append(store, segment, 1, 0, bytes, 0, bytes.length, certificate(segment, bytes)).ok())
                        .isTrue();
            }
            assertThat(store.open(other, 1, 1, CAPACITY).ok()).isTrue();
        }
        // Damage segment 3's buffer (still open, so it stays in the buffer directory).
        Path damaged = dir.resolve("buffers").resolve(ReplicaStore.fileName(MASTER, 3));
        byte[] file = Files.readAllBytes(damaged);
        file[ReplicaStore.FILE_HEADER_BYTES + 40] ^= 0x5A;
        Files.write(damaged, file);
        long elsewhere = 5L << 32 | 1;
        try (ReplicaStore restarted = store(8)) {
            restarted.load();
            assertThat(restarted.masters()).containsExactlyInAnyOrder(MASTER, other);
            long askedAt = restarted.openSequence();
            assertThat(restarted.open(MASTER, 1, 1, CAPACITY).ok()).as("segment 1 claimed after the question").isTrue();
            // Segment 5 freed (absent), 6 above the answer's highest; 4 listed on a past self.
            java.util.Map<Long, java.util.Set<Long>> held = java.util.Map.of(1L, java.util.Set.of(elsewhere),
                    2L, java.util.Set.of(elsewhere), 3L, java.util.Set.of(elsewhere), 4L, java.util.Set.of(pastSelf));
            ReplicaStore.MasterReplicas notFull = new ReplicaStore.MasterReplicas(MASTER, false, 5, held);
            assertThat(restarted.reconcile(notFull, self, askedAt)).as("only the freed segment 5").isEqualTo(1);
            ReplicaStore.MasterReplicas full = new ReplicaStore.MasterReplicas(MASTER, true, 5, held);
            assertThat(restarted.reconcile(full, self, askedAt)).as("then segment 2").isEqualTo(1);
            assertThat(restarted.list(MASTER)).extracting(ReplicaInfo::segmentId, ReplicaInfo::state)
                    .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple(1L, ReplicaInfo.State.BUFFERED),
                            org.assertj.core.groups.Tuple.tuple(3L, ReplicaInfo.State.CORRUPT),
                            org.assertj.core.groups.Tuple.tuple(4L, ReplicaInfo.State.BUFFERED),
                            org.assertj.core.groups.Tuple.tuple(6L, ReplicaInfo.State.BUFFERED));
            assertThat(restarted.list(other)).hasSize(1);
            assertThat(restarted.orphansDropped()).isEqualTo(2);
            assertThat(restarted.buffersInUse()).as("the dropped ones' buffers were released").isEqualTo(5);
        }
    }

    /**
     * A closed replica is flushed to the backup directory and its buffer released; an open one
     * stays in its buffer. A restarted store reloads both, verified; the open one keeps only
     * its certified prefix as trusted. Then a flipped byte in the flushed file is detected.
     */
    @Test
    void aRestartReloadsVerifiedReplicasAndACorruptedOneIsReportedNotServed() throws Exception {
        Random random = new Random(SEED);
        byte[] closed = segment(1, 200, random);
        byte[] open = segment(2, 100, random);
        int certified = open.length;
        byte[] openMore = segment(3, 10, random); // bytes after the certificate: not trusted on reload
        try (ReplicaStore store = store(4)) {
            store.open(MASTER, 1, 1, CAPACITY);
            append(store, 1, 1, 0, closed, 0, closed.length, certificate(1, closed));
            assertThat(store.close(MASTER, 1, 1, closed.length, certificate(1, closed).checksum()).closed()).isTrue();
            store.open(MASTER, 2, 3, CAPACITY);
            append(store, 2, 3, 0, open, 0, open.length, certificate(2, open));
            append(store, 2, 3, open.length, openMore, 0, openMore.length, null);
            store.awaitFlushes(10, TimeUnit.SECONDS);
            assertThat(store.list()).extracting(ReplicaInfo::state)
                    .containsExactly(ReplicaInfo.State.FLUSHED, ReplicaInfo.State.BUFFERED);
            assertThat(store.buffersInUse()).isEqualTo(1);
        }
        try (ReplicaStore restarted = store(4)) {
            List<ReplicaInfo> found = restarted.load();
            assertThat(found).hasSize(2);
            assertThat(found.get(0)).satisfies(r -> {
                assertThat(r.segmentId()).isEqualTo(1);
                assertThat(r.closed()).isTrue();
                assertThat(r.state()).isEqualTo(ReplicaInfo.State.FLUSHED);
            });
            assertThat(found.get(1)).satisfies(r -> {
                assertThat(r.segmentId()).isEqualTo(2);
                assertThat(r.epoch()).isEqualTo(3);
                assertThat(r.closed()).isFalse();
                assertThat(r.state()).isEqualTo(ReplicaInfo.State.BUFFERED);
                assertThat(r.certificateLength()).isEqualTo(certified);
            });
            assertThat(restarted.read(MASTER, 1).orElseThrow()).isEqualTo(closed);
            assertThat(restarted.read(MASTER, 2).orElseThrow()).isEqualTo(open);
        }
        // Flip one byte inside an object of the flushed replica.
        Path flushed;
        try (var files = Files.list(dir.resolve("backup"))) {
            flushed = files.filter(p -> p.toString().endsWith(".replica")).findFirst().orElseThrow();
        }
        try (FileChannel channel = FileChannel.open(flushed, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long at = ReplicaFile.HEADER_BYTES + closed.length / 2;
            ByteBuffer b = ByteBuffer.allocate(1);
            channel.read(b, at);
            b.flip();
            b.put(0, (byte) (b.get(0) ^ 0x5A));
            channel.write(b, at);
        }
        try (ReplicaStore again = store(4)) {
            List<ReplicaInfo> found = again.load();
            assertThat(found.get(0).state()).isEqualTo(ReplicaInfo.State.CORRUPT);
            assertThatThrownBy(() -> again.read(MASTER, 1)).isInstanceOf(CorruptReplicaException.class)
                    .hasMessageContaining("corrupt");
            assertThat(again.read(MASTER, 2).orElseThrow()).as("the other replica still serves").isEqualTo(open);
        }
    }
}
