package io.ferrite.server.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.GetTabletMapRequest;
import io.ferrite.proto.v1.ListReplicasRequest;
import io.ferrite.proto.v1.ServerStatsRequest;
import io.ferrite.proto.v1.Tablet;
import io.ferrite.proto.v1.TabletState;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash recovery with real processes (issue 10 §4): four servers, R=2, data loaded into a table
 * whose tablets two masters own, then {@code kill -9} of one of them while a client keeps
 * writing. Its tablets are rebuilt on the others from the backups; the writing client sees no
 * error (only latency), every acknowledged write reads back with its latest value and lies in
 * the certified replicas of the new owners' logs, and the backups free the dead master's
 * replicas.
 */
class CrashRecoveryProcessTest {
    private static final long SEED = Long.getLong("ferrite.seed", 0xC0A1_0010L);
    private static final int KEYS = 4_000;
    private static final int VALUE_BYTES = 300;

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    Path dir;

    @Test
    void aKilledMastersTabletsServeAgainWithEveryAcknowledgedWrite() throws Exception {
        LocalContext context = new LocalContext().servers(4).replicas(2).memory("64m").dataDir(dir)
                .serverFlags(List.of("--session-timeout-ms", "2000", "--segment-size", "2m")).conclude();
        LocalCluster cluster = LocalCluster.start(context, new PrintStream(OutputStream.nullOutputStream()));
        ManagedChannel coordinator = NettyChannelBuilder.forTarget(cluster.address()).usePlaintext().build();
        try (ClusterProbe probe = new ClusterProbe();
             FerriteClient client = Ferrite.connect(cluster.address(),
                     ClientOptions.builder().timeout(Duration.ofSeconds(60)).build())) {
            client.createTable("recovered", 4);
            Table table = client.table("recovered");
            Random random = new Random(SEED);
            Map<String, String> acknowledged = new ConcurrentHashMap<>();
            int batch = 0;
            for (; batch < KEYS / 16; batch++) {
                ClusterProbe.Batch.submit(table, random, batch, KEYS, VALUE_BYTES).complete(acknowledged);
            }
            Map<String, ProcessHandle> processes = cluster.serverProcesses();
            String victim = mostTablets(coordinator, processes.keySet());
            long victimId = probe.control(victim).serverStats(ServerStatsRequest.getDefaultInstance()).getServerId();
            List<String> survivors = processes.keySet().stream().filter(a -> !a.equals(victim)).toList();

            // A writer keeps going through the crash; any failed write fails the test.
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger writerBatches = new AtomicInteger();
            Random writerRandom = new Random(SEED + 1);
            int firstWriterBatch = batch;
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    for (int b = firstWriterBatch; !stop.get(); b++) {
                        ClusterProbe.Batch.submit(table, writerRandom, b, KEYS, VALUE_BYTES).complete(acknowledged);
                        writerBatches.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new RuntimeException("seed " + SEED + ": a write failed during recovery", e);
                }
            });
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> writerBatches.get() >= 5);

            long t0 = System.nanoTime();
            assertThat(processes.get(victim).destroyForcibly()).as("SIGKILL sent").isTrue();
            processes.get(victim).onExit().get(30, TimeUnit.SECONDS);
            Awaitility.await("tablets of the killed master NORMAL on live masters").atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> tablets(coordinator).stream().allMatch(t -> t.getState() == TabletState.NORMAL
                            && t.getOwnerId() != victimId));
            long recoveredMs = (System.nanoTime() - t0) / 1_000_000;
            int atRecovery = writerBatches.get();
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> writerBatches.get() >= atRecovery + 10);
            stop.set(true);
            writer.get(120, TimeUnit.SECONDS);
            System.out.printf("seed %d: kill -9 of %s -> every tablet NORMAL on a live master in %d ms; %d writer"
                    + " batches, %d keys acknowledged%n", SEED, victim, recoveredMs, writerBatches.get(),
                    acknowledged.size());

            ClusterProbe.assertReadBack(table, acknowledged, SEED);
            probe.assertAcknowledgedInCertifiedReplicas(probe.owners(cluster.address(), "recovered"), survivors,
                    acknowledged, SEED);
            Awaitility.await("the backups freed the dead master's replicas").atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> {
                        for (String backup : survivors) {
                            assertThat(probe.control(backup).listReplicas(ListReplicasRequest.newBuilder()
                                    .setMasterId(victimId).build()).getReplicasList()).as("replicas of %s on %s",
                                    victim, backup).isEmpty();
                        }
                    });
        } finally {
            coordinator.shutdownNow();
            cluster.stop();
        }
    }

    private static List<Tablet> tablets(ManagedChannel coordinator) {
        return CoordinatorServiceGrpc.newBlockingStub(coordinator)
                .getTabletMap(GetTabletMapRequest.newBuilder().setName("recovered").build()).getTabletsList();
    }

    /** The server owning the most tablets of the table. */
    private static String mostTablets(ManagedChannel coordinator, java.util.Set<String> servers) {
        Map<String, Integer> count = new java.util.HashMap<>();
        for (Tablet t : tablets(coordinator)) {
            count.merge(t.getOwnerAddress(), 1, Integer::sum);
        }
        return servers.stream().max(java.util.Comparator.comparingInt(s -> count.getOrDefault(s, 0))).orElseThrow();
    }
}
