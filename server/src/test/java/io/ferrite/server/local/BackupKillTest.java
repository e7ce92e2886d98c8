package io.ferrite.server.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.GetTabletMapRequest;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.ListReplicasRequest;
import io.ferrite.proto.v1.ReplicaInfo;
import io.ferrite.proto.v1.ServerStatsRequest;
import io.ferrite.proto.v1.ServerStatsResponse;
import io.ferrite.proto.v1.Tablet;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill -9 of a backup process under a write load: a {@code ferrite local} cluster of four
 * server processes replicating twice; the table lives on three of them, the fourth only backs
 * up. It is SIGKILLed in the middle of the load. Every master re-replicates what it held, so
 * each segment of every log is again on two live backups (checked with ListReplicas on the
 * survivors), and every acknowledged write reads back with its latest value.
 */
class BackupKillTest {
    private static final long SEED = Long.getLong("ferrite.seed", 0xB4C_0009L);

    @TempDir
    Path dir;

    @Test
    void killingABackupProcessLosesNoAcknowledgedWriteAndRestoresTwoCopies() throws Exception {
        LocalContext context = new LocalContext().servers(4).replicas(2).memory("64m").dataDir(dir).conclude();
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        LocalCluster cluster = LocalCluster.start(context, quiet);
        List<ManagedChannel> channels = new ArrayList<>();
        try (FerriteClient client = Ferrite.connect(cluster.address(),
                ClientOptions.builder().timeout(Duration.ofSeconds(20)).build())) {
            client.createTable("kill", 3);
            Table table = client.table("kill");
            ManagedChannel coordinator = channel(cluster.address(), channels);
            GetTabletMapResponse map = CoordinatorServiceGrpc.newBlockingStub(coordinator)
                    .getTabletMap(GetTabletMapRequest.newBuilder().setName("kill").build());
            Set<String> owners = new HashSet<>();
            for (Tablet t : map.getTabletsList()) {
                owners.add(t.getOwnerAddress());
            }
            Map<String, ProcessHandle> processes = cluster.serverProcesses();
            String victim = processes.keySet().stream().filter(a -> !owners.contains(a)).findFirst().orElseThrow();
            Random random = new Random(SEED);
            Map<String, String> acknowledged = new HashMap<>();
            long slowestBatchNs = 0;
            for (int batch = 0; batch < 300; batch++) {
                if (batch == 100) {
                    assertThat(processes.get(victim).destroyForcibly()).as("SIGKILL sent").isTrue();
                    processes.get(victim).onExit().get(30, TimeUnit.SECONDS);
                }
                Map<String, CompletableFuture<Long>> inFlight = new HashMap<>();
                Map<String, String> values = new HashMap<>();
                while (inFlight.size() < 32) {
                    String key = "key-" + random.nextInt(3_000);
                    if (!inFlight.containsKey(key)) {
                        String value = "v" + batch + "-" + "x".repeat(random.nextInt(600));
                        values.put(key, value);
                        inFlight.put(key, table.writeAsync(key.getBytes(StandardCharsets.UTF_8),
                                value.getBytes(StandardCharsets.UTF_8)));
                    }
                }
                long t0 = System.nanoTime();
                for (Map.Entry<String, CompletableFuture<Long>> e : inFlight.entrySet()) {
                    e.getValue().get(30, TimeUnit.SECONDS); // a failure here fails the test: writes must go on
                    acknowledged.put(e.getKey(), values.get(e.getKey()));
                }
                slowestBatchNs = Math.max(slowestBatchNs, System.nanoTime() - t0);
            }
            System.out.printf("seed %d: slowest batch of 32 writes %.1f ms (the kill and re-replication fall in one)%n",
                    SEED, slowestBatchNs / 1e6);

            // Two live copies of every segment of every master, none on the master itself.
            List<String> survivors = processes.keySet().stream().filter(a -> !a.equals(victim)).toList();
            Awaitility.await("every segment back on two live backups").atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                        for (String master : owners) {
                            ServerStatsResponse stats = ControlServiceGrpc.newBlockingStub(channel(master, channels))
                                    .serverStats(ServerStatsRequest.getDefaultInstance());
                            Map<Long, Integer> copies = new HashMap<>();
                            for (String backup : survivors) {
                                if (backup.equals(master)) {
                                    continue;
                                }
                                for (ReplicaInfo r : ControlServiceGrpc.newBlockingStub(channel(backup, channels))
                                        .listReplicas(ListReplicasRequest.newBuilder()
                                                .setMasterId(stats.getServerId()).build()).getReplicasList()) {
                                    assertThat(r.getState()).isNotEqualTo("CORRUPT");
                                    copies.merge(r.getSegmentId(), 1, Integer::sum);
                                }
                            }
                            for (long segment : stats.getLogSegmentIdsList()) {
                                assertThat(copies.getOrDefault(segment, 0))
                                        .as("copies of segment %d of master %s", segment, master).isEqualTo(2);
                            }
                        }
                    });
            for (Map.Entry<String, String> e : acknowledged.entrySet()) {
                assertThat(table.read(e.getKey()).orElseThrow().valueAsString()).as("seed %d key %s", SEED, e.getKey())
                        .isEqualTo(e.getValue());
            }
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
            cluster.stop();
        }
    }

    private static ManagedChannel channel(String address, List<ManagedChannel> channels) {
        ManagedChannel channel = NettyChannelBuilder.forTarget(address).usePlaintext().build();
        channels.add(channel);
        return channel;
    }
}
