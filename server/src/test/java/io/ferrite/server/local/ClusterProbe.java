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
