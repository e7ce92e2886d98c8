package io.ferrite.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.log.EntryType;
import io.ferrite.log.ObjectFlyweight;
import io.ferrite.log.SegmentIterator;
import io.ferrite.log.SegmentMemory;
import io.ferrite.log.SegmentWriter;
import io.ferrite.proto.KeyHash;
import io.ferrite.proto.v1.FreeMasterReplicasRequest;
import io.ferrite.proto.v1.FreeMasterReplicasResponse;
import io.ferrite.proto.v1.KeyHashRange;
import io.ferrite.proto.v1.ReadRecoveryDataRequest;
import io.ferrite.proto.v1.ReadRecoveryDataResponse;
import io.ferrite.proto.v1.RecoveryPartition;
import io.ferrite.proto.v1.Status;
import io.grpc.stub.StreamObserver;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ReadRecoveryData} cuts a replica once for every partition a request names: the asking
 * partition gets its entries, the others' wait for their own requests (served without reading
 * the replica again, taken once), every entry lands in exactly one partition, and freeing the
 * master's replicas drops what waits. Driven through the service object, no network.
 */
class BackupRecoveryReadTest {
    private static final long MASTER = 7L << 32 | 1;
    private static final long SEGMENT = 4;
    private static final long EPOCH = 2;
    private static final int CAPACITY = 1 << 20;
    private static final int OBJECTS = 3_000;
    private static final long SEED = Long.getLong("ferrite.seed", 0xB0C_0002L);

    @TempDir
    Path dir;

    private static RecoveryPartition third(int i) {
        long step = Long.divideUnsigned(-1L, 3);
        long start = i * step;
        long end = i == 2 ? -1L : (i + 1) * step - 1;
        return RecoveryPartition.newBuilder().addRanges(KeyHashRange.newBuilder().setTableId(1).setStartHash(start)
                .setEndHash(end)).build();
    }

    private static ReadRecoveryDataRequest request(int partition, boolean namingOthers) {
        var request = ReadRecoveryDataRequest.newBuilder().setMasterId(MASTER).setSegmentId(SEGMENT).setEpoch(EPOCH)
                .addAllRanges(third(partition).getRangesList());
        if (namingOthers) {
            for (int i = 0; i < 3; i++) {
                if (i != partition) {
                    request.addOtherPartitions(third(i));
                }
            }
        }
        return request.build();
    }

    private static <T> T call(java.util.function.BiConsumer<StreamObserver<T>, Void> method) {
        CompletableFuture<T> answer = new CompletableFuture<>();
        method.accept(new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                answer.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        }, null);
        return answer.join();
    }

    private static ReadRecoveryDataResponse read(BackupRecoveryServiceImpl service, ReadRecoveryDataRequest request) {
        return call((out, ignored) -> service.readRecoveryData(request, out));
    }

    /** The keys of the objects in a response's entries, checking each entry verifies. */
    private static List<String> keys(ReadRecoveryDataResponse response) {
        byte[] entries = response.getEntries().toByteArray();
        SegmentMemory memory = SegmentMemory.contiguous(MemorySegment.ofArray(entries));
        SegmentIterator iterator = new SegmentIterator(true).resetEntries(memory, entries.length);
        List<String> keys = new ArrayList<>();
        int step;
        while ((step = iterator.next()) == SegmentIterator.ENTRY) {
            assertThat(iterator.type()).isEqualTo(EntryType.OBJECT);
            ObjectFlyweight object = iterator.object();
            byte[] key = new byte[object.keyLength()];
            memory.copyTo(object.keyOffset(), key, 0, key.length);
            keys.add(new String(key, StandardCharsets.UTF_8));
        }
        assertThat(step).as("entries verify to the end").isEqualTo(SegmentIterator.END);
        return keys;
    }

    private ReplicaStore storeWithOneReplica() throws Exception {
        Random random = new Random(SEED);
        byte[] backing = new byte[CAPACITY];
        SegmentWriter writer = new SegmentWriter(SegmentMemory.contiguous(MemorySegment.ofArray(backing)), CAPACITY,
                null);
        writer.appendSegmentHeader(MASTER, SEGMENT, CAPACITY);
        for (int i = 0; i < OBJECTS; i++) {
            byte[] key = ("key-" + i).getBytes(StandardCharsets.UTF_8);
            byte[] value = new byte[random.nextInt(100)];
            random.nextBytes(value);
            writer.appendObject(1, key, 0, key.length, value, 0, value.length, i + 1, 0);
        }
        ReplicaStore store = new ReplicaStore(dir.resolve("buffers"), dir.resolve("backup"), 4);
        assertThat(store.open(MASTER, SEGMENT, EPOCH, CAPACITY).ok()).isTrue();
        assertThat(store.append(MASTER, SEGMENT, EPOCH, 0,
                MemorySegment.ofArray(Arrays.copyOf(backing, writer.position())), writer.certificate().lengthBytes(),
                writer.certificate().checksum()).ok()).isTrue();
        assertThat(store.close(MASTER, SEGMENT, EPOCH, writer.certificate().lengthBytes(),
                writer.certificate().checksum()).ok()).isTrue();
        return store;
    }

    @Test
    void oneReadServesEveryPartitionAndEachEntryLandsInExactlyOne() throws Exception {
        try (ReplicaStore store = storeWithOneReplica()) {
            BackupRecoveryServiceImpl service = new BackupRecoveryServiceImpl(store, m -> false, e -> true, m -> { });
            List<List<String>> parts = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                ReadRecoveryDataResponse answer = read(service, request(p, true));
                assertThat(answer.getStatus()).isEqualTo(Status.OK);
                assertThat(answer.getEntriesScanned()).isEqualTo(OBJECTS + 1); // the header too
                parts.add(keys(answer));
            }
            assertThat(service.replicasCut()).as("the replica was read once for three partitions").isEqualTo(1);
            assertThat(service.partsServedFromCuts()).isEqualTo(2);
            Set<String> all = new HashSet<>();
            for (int p = 0; p < 3; p++) {
                for (String key : parts.get(p)) {
                    byte[] k = key.getBytes(StandardCharsets.UTF_8);
                    assertThat(third(p).getRanges(0).getStartHash() == 0
                            || Long.compareUnsigned(KeyHash.hash(k, 0, k.length), third(p).getRanges(0).getStartHash())
                            >= 0).as(key + " in partition " + p).isTrue();
                    assertThat(all.add(key)).as(key + " in one partition only").isTrue();
                }
                assertThat(parts.get(p)).as("partition " + p + " gets a share").isNotEmpty();
            }
            assertThat(all).hasSize(OBJECTS);

            // A part is taken once: asking again reads the replica again, with the same answer.
            assertThat(keys(read(service, request(1, false)))).isEqualTo(parts.get(1));
            assertThat(service.replicasCut()).isEqualTo(2);
        }
    }

    @Test
    void concurrentRequestsForOneReplicaReadItOnceAndFreeingDropsWhatWaits() throws Exception {
        try (ReplicaStore store = storeWithOneReplica()) {
            BackupRecoveryServiceImpl service = new BackupRecoveryServiceImpl(store, m -> false, e -> true, m -> { });
            try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
                var first = pool.submit(() -> read(service, request(0, true)));
                var second = pool.submit(() -> read(service, request(2, true)));
                assertThat(first.get().getStatus()).isEqualTo(Status.OK);
                assertThat(second.get().getStatus()).isEqualTo(Status.OK);
            }
            assertThat(service.replicasCut()).as("the second request waited for the first one's cut").isEqualTo(1);

            FreeMasterReplicasResponse freed = call((out, ignored) -> service.freeMasterReplicas(
                    FreeMasterReplicasRequest.newBuilder().setMasterId(MASTER).build(), out));
            assertThat(freed.getStatus()).isEqualTo(Status.OK);
            ReadRecoveryDataResponse after = read(service, request(1, true));
            assertThat(after.getStatus()).as("nothing served once the replicas are freed")
                    .isEqualTo(Status.OBJECT_DOESNT_EXIST);
            assertThat(service.partsServedFromCuts()).isEqualTo(1);
        }
    }

    @Test
    void aBudgetTooSmallKeepsNothingAndEveryPartitionStillGetsItsEntries() throws Exception {
        try (ReplicaStore store = storeWithOneReplica()) {
            BackupRecoveryServiceImpl service = new BackupRecoveryServiceImpl(store, m -> false, e -> true, m -> { },
                    1024);
            int total = 0;
            for (int p = 0; p < 3; p++) {
                total += keys(read(service, request(p, true))).size();
            }
            assertThat(total).isEqualTo(OBJECTS);
            assertThat(service.replicasCut()).isEqualTo(3);
            assertThat(service.partsServedFromCuts()).isZero();
        }
    }
}
