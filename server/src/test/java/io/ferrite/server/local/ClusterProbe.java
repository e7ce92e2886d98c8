package io.ferrite.server.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.client.Table;
import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.GetTabletMapRequest;
import io.ferrite.proto.v1.ListReplicasRequest;
import io.ferrite.proto.v1.ServerStatsRequest;
import io.ferrite.proto.v1.ServerStatsResponse;
import io.ferrite.proto.v1.Tablet;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * What the process-level replication tests ask a local cluster: its servers' control services
 * (one channel per address, closed with the probe), the owners of a table, the copies of every
 * segment, and a write load of batches whose acknowledged values are remembered.
 */
final class ClusterProbe implements AutoCloseable {
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    ControlServiceGrpc.ControlServiceBlockingStub control(String address) {
        return ControlServiceGrpc.newBlockingStub(channel(address));
    }

    /** The addresses of the servers owning tablets of {@code table}. */
    Set<String> owners(String coordinator, String table) {
        Set<String> owners = new HashSet<>();
        for (Tablet t : CoordinatorServiceGrpc.newBlockingStub(channel(coordinator))
                .getTabletMap(GetTabletMapRequest.newBuilder().setName(table).build()).getTabletsList()) {
            owners.add(t.getOwnerAddress());
        }
        return owners;
    }

    /**
     * Waits until every segment in the log of each of {@code masters} has exactly
     * {@code copies} sound (not CORRUPT) replicas on {@code backups}.
     */
    void awaitSoundCopies(Collection<String> masters, Collection<String> backups, int copies, long seed) {
        Awaitility.await("exactly " + copies + " sound copies of every segment").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                    for (String master : masters) {
                        ServerStatsResponse stats = control(master).serverStats(ServerStatsRequest.getDefaultInstance());
                        Map<Long, Integer> held = new HashMap<>();
                        for (String backup : backups) {
                            control(backup).listReplicas(ListReplicasRequest.newBuilder()
                                            .setMasterId(stats.getServerId()).build()).getReplicasList().stream()
                                    .filter(r -> !r.getState().equals("CORRUPT"))
                                    .forEach(r -> held.merge(r.getSegmentId(), 1, Integer::sum));
                        }
                        for (long segment : stats.getLogSegmentIdsList()) {
                            assertThat(held.getOrDefault(segment, 0)).as("seed %d: sound copies of segment %d of"
                                    + " master %s", seed, segment, master).isEqualTo(copies);
                        }
                    }
                });
    }

    /**
     * Every acknowledged write's latest value lies in the certified replicas that recovery
     * would read, not only in the live masters' memory: for every segment in each master's log,
     * the certified bytes of a sound replica (ReadReplica, verified against the certificate
     * ListReplicas reports) are parsed, and the newest version of each key wins across the log.
     * Checked once per choice of replica (the first copy of every segment, then the second...),
     * since recovery may pick any of them.
     */
    void assertAcknowledgedInCertifiedReplicas(Collection<String> masters, Collection<String> backups,
                                               Map<String, String> acknowledged, long seed) {
        Map<Long, Map<Long, java.util.List<Copy>>> copies = new HashMap<>();
        int most = 0;
        for (String master : masters) {
            ServerStatsResponse stats = control(master).serverStats(ServerStatsRequest.getDefaultInstance());
            Map<Long, java.util.List<Copy>> bySegment = new HashMap<>();
            for (long segment : stats.getLogSegmentIdsList()) {
                bySegment.put(segment, new java.util.ArrayList<>());
            }
            for (String backup : backups) {
                for (io.ferrite.proto.v1.ReplicaInfo r : control(backup).listReplicas(ListReplicasRequest.newBuilder()
                        .setMasterId(stats.getServerId()).build()).getReplicasList()) {
                    var list = bySegment.get(r.getSegmentId());
                    if (list != null && !r.getState().equals("CORRUPT")) {
                        list.add(new Copy(backup, r));
                    }
                }
            }
            for (var e : bySegment.entrySet()) {
                assertThat(e.getValue()).as("seed %d: sound replicas of segment %d of master %s", seed, e.getKey(),
                        master).isNotEmpty();
                most = Math.max(most, e.getValue().size());
            }
            copies.put(stats.getServerId(), bySegment);
        }
        for (int choice = 0; choice < most; choice++) {
            Map<String, Long> versions = new HashMap<>();
            Map<String, String> values = new HashMap<>();
            for (var master : copies.entrySet()) {
                for (var list : master.getValue().values()) {
                    readObjects(master.getKey(), list.get(Math.min(choice, list.size() - 1)), versions, values, seed);
                }
            }
            for (Map.Entry<String, String> e : acknowledged.entrySet()) {
                assertThat(values.get(e.getKey())).as("seed %d, replica choice %d: key %s in the certified replicas",
                        seed, choice, e.getKey()).isEqualTo(e.getValue());
            }
        }
    }

    /**
     * Every acknowledged write's latest value lies in the certified replicas of one master's log
     * that {@code backups} hold, for a master that cannot be asked any more (crashed or deposed):
     * every sound replica of it is read (certified prefix, verified), the newest version of each
     * key wins; checked once per choice of copy of each segment, as recovery may pick any.
     */
    void assertAcknowledgedInCertifiedReplicasOf(long masterId, Collection<String> backups,
                                                 Map<String, String> acknowledged, long seed) {
        Map<Long, java.util.List<Copy>> bySegment = new java.util.TreeMap<>();
        for (String backup : backups) {
            for (io.ferrite.proto.v1.ReplicaInfo r : control(backup).listReplicas(ListReplicasRequest.newBuilder()
                    .setMasterId(masterId).build()).getReplicasList()) {
                if (!r.getState().equals("CORRUPT")) {
                    bySegment.computeIfAbsent(r.getSegmentId(), s -> new java.util.ArrayList<>()).add(new Copy(backup, r));
                }
            }
        }
        assertThat(bySegment).as("seed %d: replicas of master %d", seed, masterId).isNotEmpty();
        int most = bySegment.values().stream().mapToInt(java.util.List::size).max().orElse(0);
        for (int choice = 0; choice < most; choice++) {
            Map<String, Long> versions = new HashMap<>();
            Map<String, String> values = new HashMap<>();
            for (var list : bySegment.values()) {
                readObjects(masterId, list.get(Math.min(choice, list.size() - 1)), versions, values, seed);
            }
            for (Map.Entry<String, String> e : acknowledged.entrySet()) {
                assertThat(values.get(e.getKey())).as("seed %d, replica choice %d: key %s in the certified replicas"
                        + " of master %d", seed, choice, e.getKey(), masterId).isEqualTo(e.getValue());
            }
        }
    }

    /** A replica and the backup holding it. */
    private record Copy(String backup, io.ferrite.proto.v1.ReplicaInfo info) {
    }

    private void readObjects(long masterId, Copy copy, Map<String, Long> versions, Map<String, String> values,
                             long seed) {
        String backup = copy.backup();
        io.ferrite.proto.v1.ReplicaInfo info = copy.info();
        var read = control(backup).readReplica(io.ferrite.proto.v1.ReadReplicaRequest.newBuilder()
                .setMasterId(masterId).setSegmentId(info.getSegmentId()).build());
        assertThat(read.getStatus()).as("seed %d: ReadReplica of segment %d on %s", seed, info.getSegmentId(), backup)
                .isEqualTo(io.ferrite.proto.v1.Status.OK);
        byte[] bytes = read.getBytes().toByteArray();
        // The replica may have been certified further between ListReplicas and ReadReplica: the
        // certificate listed covers a prefix of what was read.
        assertThat(bytes.length).isGreaterThanOrEqualTo(info.getCertificateLength());
        io.ferrite.log.SegmentIterator iterator = new io.ferrite.log.SegmentIterator(true).reset(
                io.ferrite.log.SegmentMemory.contiguous(java.lang.foreign.MemorySegment.ofArray(bytes)),
                info.getSegmentId(), new io.ferrite.log.SegmentCertificate(info.getCertificateLength(),
                        info.getCertificateChecksum()));
        int step;
        while ((step = iterator.next()) == io.ferrite.log.SegmentIterator.ENTRY) {
            if (iterator.type() == io.ferrite.log.EntryType.OBJECT) {
                io.ferrite.log.ObjectFlyweight object = iterator.object();
                String key = new String(object.key(), StandardCharsets.UTF_8);
                if (object.version() > versions.getOrDefault(key, 0L)) {
                    versions.put(key, object.version());
                    values.put(key, new String(object.value(), StandardCharsets.UTF_8));
                }
            }
        }
        assertThat(step).as("seed %d: segment %d on %s verifies against its certificate", seed, info.getSegmentId(),
                backup).isEqualTo(io.ferrite.log.SegmentIterator.END);
    }

    private ManagedChannel channel(String address) {
        return channels.computeIfAbsent(address, a -> NettyChannelBuilder.forTarget(a).usePlaintext().build());
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }

    /** 32 writes of distinct keys in flight, and the values they write. */
    record Batch(Map<String, CompletableFuture<Long>> futures, Map<String, String> values) {
        /** Puts the writes of batch number {@code batch} in flight: keys below {@code keys}, values up to {@code maxValue} bytes. */
        static Batch submit(Table table, Random random, int batch, int keys, int maxValue) {
            Batch b = new Batch(new HashMap<>(), new HashMap<>());
            while (b.futures().size() < 32) {
                String key = "key-" + random.nextInt(keys);
                if (!b.futures().containsKey(key)) {
                    String value = "v" + batch + "-" + "x".repeat(random.nextInt(maxValue));
                    b.values().put(key, value);
                    b.futures().put(key, table.writeAsync(key.getBytes(StandardCharsets.UTF_8),
                            value.getBytes(StandardCharsets.UTF_8)));
                }
            }
            return b;
        }

        /**
         * Waits for every write (a failure fails the test: writes must go on) and records what
         * they wrote; returns how long it waited.
         */
        long complete(Map<String, String> acknowledged) throws Exception {
            long t0 = System.nanoTime();
            for (Map.Entry<String, CompletableFuture<Long>> e : futures.entrySet()) {
                e.getValue().get(60, TimeUnit.SECONDS);
                acknowledged.put(e.getKey(), values.get(e.getKey()));
            }
            return System.nanoTime() - t0;
        }
    }

    /** Every acknowledged write reads back with its latest value. */
    static void assertReadBack(Table table, Map<String, String> acknowledged, long seed) {
        for (Map.Entry<String, String> e : acknowledged.entrySet()) {
            assertThat(table.read(e.getKey()).orElseThrow().valueAsString()).as("seed %d key %s", seed, e.getKey())
                    .isEqualTo(e.getValue());
        }
    }
}
