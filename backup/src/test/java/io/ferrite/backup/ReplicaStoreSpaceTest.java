package io.ferrite.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.log.SegmentCertificate;
import io.ferrite.log.SegmentMemory;
import io.ferrite.log.SegmentWriter;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ReplicaStore} on file systems that fill or fail (I7): its buffer directory or its
 * backup directory is a size-limited tmpfs mounted by the test (skipped unless it runs as root
 * and may mount), or its {@code fsync} is made to fail. Opens are refused with
 * {@link ReplicaStore.Outcome#NO_SPACE} (or {@code IO_ERROR}) while the store cannot store
 * replicas, the replicas it holds stay sound and readable, and once space is back (after the
 * retry delay, moved by hand) it accepts again.
 */
class ReplicaStoreSpaceTest {
    private static final long MASTER = 7L << 32 | 1;
    private static final int CAPACITY = 1 << 20;
    private static final long SEED = Long.getLong("ferrite.seed", 0x5BACE_0001L);
    private static final long SECOND_NS = TimeUnit.SECONDS.toNanos(1);

    @TempDir
    Path dir;

    @Test
    void aFullBufferFileSystemRefusesOpensKeepsGoodReplicasAndResumesWhenSpaceIsBack() throws Exception {
        Path buffers = Files.createDirectories(dir.resolve("buffers"));
        mount(buffers, "8m");
        try (ReplicaStore store = new ReplicaStore(buffers, dir.resolve("backup"), 64)) {
            Random random = new Random(SEED);
            java.nio.file.FileStore tmpfs = Files.getFileStore(buffers);
            long before = tmpfs.getUnallocatedSpace();
            assertThat(store.open(MASTER, 1, 1, CAPACITY).ok()).isTrue();
            assertThat(before - tmpfs.getUnallocatedSpace())
                    .as("seed %d: the buffer's blocks are allocated at open, not left sparse", SEED)
                    .isGreaterThanOrEqualTo(CAPACITY);
            // 8 MiB holds seven buffers of 1 MiB + 4 KiB; the eighth open fails.
            byte[][] held = new byte[8][];
            long segment = 1;
            ReplicaStore.Result result = new ReplicaStore.Result(ReplicaStore.Outcome.OK, 0, 0, false);
            for (; segment <= 8; segment++) {
                result = segment == 1 ? result : store.open(MASTER, segment, 1, CAPACITY);
                if (!result.ok()) {
                    break;
                }
                held[(int) segment - 1] = fill(store, segment, random);
            }
            assertThat(segment).as("seed %d: the open that found the file system full", SEED).isEqualTo(8);
            assertThat(result.outcome()).isEqualTo(ReplicaStore.Outcome.NO_SPACE);
            assertThat(store.allocationFailures()).isEqualTo(1);
            assertThat(store.refusingReplicas()).isTrue();
            assertThat(Files.exists(buffers.resolve(ReplicaStore.fileName(MASTER, 8))))
                    .as("no partial buffer left behind").isFalse();
            // Refused at once (no allocation tried) until the retry delay passed.
            assertThat(store.open(MASTER, 9, 1, CAPACITY).outcome()).isEqualTo(ReplicaStore.Outcome.NO_SPACE);
            assertThat(store.allocationFailures()).isEqualTo(1);
            // The good replicas are intact and still take appends (their blocks exist).
            for (long s = 1; s < 8; s++) {
                assertThat(store.read(MASTER, s)).as("replica %d", s).hasValue(held[(int) (s - 1)]);
            }
            // Still full: the retry (one open, after a second) fails again.
            long nowNs = 5 * SECOND_NS;
            store.onDutyCycle(nowNs);
            store.onDutyCycle(nowNs + SECOND_NS);
            assertThat(store.open(MASTER, 8, 1, CAPACITY).outcome()).isEqualTo(ReplicaStore.Outcome.NO_SPACE);
            assertThat(store.allocationFailures()).isEqualTo(2);
            // Space comes back (its master freed a replica): after the delay, opens work again.
            assertThat(store.free(MASTER, 1)).isTrue();
            assertThat(store.open(MASTER, 8, 1, CAPACITY).outcome()).as("before the retry delay")
                    .isEqualTo(ReplicaStore.Outcome.NO_SPACE);
            store.onDutyCycle(nowNs + 2 * SECOND_NS);
            store.onDutyCycle(nowNs + 3 * SECOND_NS);
            assertThat(store.open(MASTER, 8, 1, CAPACITY).ok()).isTrue();
            assertThat(store.refusingReplicas()).isFalse();
            assertThat(store.open(MASTER, 9, 1, CAPACITY).outcome()).as("full again: refused, not crashed")
                    .isEqualTo(ReplicaStore.Outcome.NO_SPACE);
            assertThat(store.list(MASTER)).hasSize(7).allMatch(r -> r.state() == ReplicaInfo.State.BUFFERED);
        } finally {
            unmount(buffers);
        }
    }

    @Test
    void aFullBackupDirectoryKeepsTheReplicaInItsBufferRefusesOpensAndRetriesTheFlush() throws Exception {
        Path backup = Files.createDirectories(dir.resolve("backup"));
        mount(backup, "16k"); // smaller than one flushed replica
        try (ReplicaStore store = new ReplicaStore(dir.resolve("buffers"), backup, 8)) {
            Random random = new Random(SEED);
            assertThat(store.open(MASTER, 1, 1, CAPACITY).ok()).isTrue();
            byte[] bytes = fill(store, 1, random);
            assertThat(bytes.length).isGreaterThan(16 << 10);
            ReplicaInfo info = store.list(MASTER).getFirst();
            assertThat(store.close(MASTER, 1, 1, info.certificateLength(), info.certificateChecksum()).ok()).isTrue();
            store.awaitFlushes(10, TimeUnit.SECONDS);
            assertThat(store.flushFailures()).as("seed %d", SEED).isEqualTo(1);
            assertThat(store.failingFlushes()).isEqualTo(1);
            assertThat(store.refusingReplicas()).isTrue();
            assertThat(store.open(MASTER, 2, 1, CAPACITY).outcome()).isEqualTo(ReplicaStore.Outcome.NO_SPACE);
            assertThat(store.list(MASTER)).singleElement().extracting(ReplicaInfo::state)
                    .isEqualTo(ReplicaInfo.State.BUFFERED);
            assertThat(store.read(MASTER, 1)).hasValue(bytes);
            try (var files = Files.list(backup)) {
                assertThat(files.toList()).as("no partial file left in the backup directory").isEmpty();
            }
            // Retried after a second (still full), then after two more once the disk has room.
            store.onDutyCycle(0);
            store.onDutyCycle(SECOND_NS);
            store.awaitFlushes(10, TimeUnit.SECONDS);
            assertThat(store.flushFailures()).isEqualTo(2);
            remount(backup, "8m");
            store.onDutyCycle(2 * SECOND_NS);
            store.awaitFlushes(10, TimeUnit.SECONDS);
            assertThat(store.failingFlushes()).as("not before its delay (2 s after the second failure)").isEqualTo(1);
            store.onDutyCycle(4 * SECOND_NS);
            store.awaitFlushes(10, TimeUnit.SECONDS);
            assertThat(store.failingFlushes()).isZero();
            assertThat(store.refusingReplicas()).isFalse();
            assertThat(store.list(MASTER)).singleElement().extracting(ReplicaInfo::state)
                    .isEqualTo(ReplicaInfo.State.FLUSHED);
            assertThat(store.read(MASTER, 1)).hasValue(bytes);
            assertThat(store.open(MASTER, 2, 1, CAPACITY).ok()).isTrue();
        } finally {
            unmount(backup);
        }
    }

    /** No mount needed: the fsync is made to fail (EIO), so opens get IO_ERROR until a retry flushes. */
    @Test
    void aFailingFsyncIsCountedRetriedAndRefusesOpensMeanwhile() throws Exception {
        try (ReplicaStore store = new ReplicaStore(dir.resolve("buffers"), dir.resolve("backup"), 8)) {
            Random random = new Random(SEED);
            store.syncer(channel -> {
                throw new IOException("Input/output error");
            });
            assertThat(store.open(MASTER, 1, 1, CAPACITY).ok()).isTrue();
            byte[] bytes = fill(store, 1, random);
            ReplicaInfo info = store.list(MASTER).getFirst();
            assertThat(store.close(MASTER, 1, 1, info.certificateLength(), info.certificateChecksum()).ok()).isTrue();
            store.awaitFlushes(10, TimeUnit.SECONDS);
            assertThat(store.fsyncFailures()).as("seed %d", SEED).isEqualTo(1);
            assertThat(store.open(MASTER, 2, 1, CAPACITY).outcome()).isEqualTo(ReplicaStore.Outcome.IO_ERROR);
            assertThat(Files.exists(dir.resolve("backup").resolve(ReplicaStore.fileName(MASTER, 1))))
                    .as("nothing claims to be on disk").isFalse();
            store.syncer(channel -> channel.force(true));
            store.onDutyCycle(0);
            store.onDutyCycle(SECOND_NS);
            store.awaitFlushes(10, TimeUnit.SECONDS);
            assertThat(store.list(MASTER)).singleElement().extracting(ReplicaInfo::state)
                    .isEqualTo(ReplicaInfo.State.FLUSHED);
            assertThat(store.read(MASTER, 1)).hasValue(bytes);
            assertThat(store.open(MASTER, 2, 1, CAPACITY).ok()).isTrue();
        }
    }

    /** Appends a real segment (header and objects, certified) to an open replica; returns its bytes. */
    private static byte[] fill(ReplicaStore store, long segmentId, Random random) {
        byte[] backing = new byte[CAPACITY];
        SegmentMemory memory = SegmentMemory.contiguous(MemorySegment.ofArray(backing));
        SegmentWriter writer = new SegmentWriter(memory, CAPACITY, null);
        writer.appendSegmentHeader(1, segmentId, CAPACITY);
        for (int i = 0; i < 200; i++) {
            byte[] key = ("key-" + i).getBytes(StandardCharsets.UTF_8);
            byte[] value = new byte[100 + random.nextInt(200)];
            random.nextBytes(value);
            writer.appendObject(1, key, 0, key.length, value, 0, value.length, i + 1, 0);
        }
        int length = writer.position();
        SegmentCertificate certificate = writer.certificate();
        byte[] bytes = java.util.Arrays.copyOf(backing, length);
        ReplicaStore.Result result = store.append(MASTER, segmentId, 1, 0, MemorySegment.ofArray(bytes),
                certificate.lengthBytes(), certificate.checksum());
        assertThat(result.ok()).as("append to replica %d", segmentId).isTrue();
        return bytes;
    }

    static void mount(Path at, String size) throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "needs root to mount a size-limited tmpfs (I7's full-disk tests are skipped)");
        int status = run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", at.toString());
        Assumptions.assumeTrue(status == 0, "mount -t tmpfs failed (status " + status + "); skipped");
    }

    static void remount(Path at, String size) throws Exception {
        assertThat(run("mount", "-o", "remount,size=" + size, at.toString())).isZero();
    }

    static void unmount(Path at) throws Exception {
        if (Files.getFileStore(at).type().equals("tmpfs") && !Files.getFileStore(at.getParent()).equals(
                Files.getFileStore(at))) {
            run("umount", "-l", at.toString());
        }
    }

    private static int run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        if (p.exitValue() != 0) {
            System.err.println(String.join(" ", command) + ": " + output);
        }
        return p.exitValue();
    }
}
