package io.ferrite.server.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
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
import java.io.OutputStream;
import java.io.PrintStream;
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
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups failing over and over under a write load (long suite: {@code ./ferrite test --long}).
 * A {@code ferrite local} cluster of five server processes replicating twice; the table lives
 * on three of them, the other two only back up. Each cycle picks a fault at random: kill -9 of
 * one backup, SIGTERM of one, or kill -9 of both at once; writes go on while they are down;
 * then they are started again on their directories. At the end every segment of every log has
 * exactly two sound copies on live backups, and every acknowledged write reads back with its
 * latest value. The seed ({@code -Dferrite.seed}) and cycles ({@code -Dferrite.chaos.cycles})
 * are printed.
 */
@Tag("long")
class ReplicationChaosTest {
    private static final long SEED = Long.getLong("ferrite.seed", 0xC4A0_5EEDL);
    private static final int CYCLES = Integer.getInteger("ferrite.chaos.cycles", 8);

    @TempDir
    Path dir;

    @Test
    void backupsFailingAgainAndAgainLoseNoAcknowledgedWrite() throws Exception {
        System.out.printf("ReplicationChaosTest: seed %d, %d cycles%n", SEED, CYCLES);
        Random random = new Random(SEED);
        LocalContext context = new LocalContext().servers(5).replicas(2).memory("64m").dataDir(dir)
                .serverFlags(List.of("--segment-size", "2m")).conclude();
        LocalCluster cluster = LocalCluster.start(context, new PrintStream(OutputStream.nullOutputStream()));
        List<ManagedChannel> channels = new ArrayList<>();
        try (FerriteClient client = Ferrite.connect(cluster.address(),
                ClientOptions.builder().timeout(Duration.ofSeconds(30)).build())) {
            client.createTable("chaos", 3);
            Table table = client.table("chaos");
            Set<String> owners = new HashSet<>();
            for (Tablet t : CoordinatorServiceGrpc.newBlockingStub(channel(cluster.address(), channels))
                    .getTabletMap(GetTabletMapRequest.newBuilder().setName("chaos").build()).getTabletsList()) {
                owners.add(t.getOwnerAddress());
            }
            List<String> backups = new ArrayList<>(cluster.serverProcesses().keySet().stream()
                    .filter(a -> !owners.contains(a)).toList());
            assertThat(backups).as("backup-only servers").hasSize(2);
            Map<String, String> acknowledged = new HashMap<>();
            int batch = 0;
            for (int cycle = 0; cycle < CYCLES; cycle++) {
                int fault = random.nextInt(3); // 0: kill -9 one, 1: SIGTERM one, 2: kill -9 both
                List<String> victims = fault == 2 ? List.copyOf(backups)
                        : List.of(backups.get(random.nextInt(backups.size())));
                batch = write(table, random, batch, 5 + random.nextInt(20), acknowledged);
                // The fault lands while a batch is in flight.
                Batch inFlight = submit(table, random, batch++);
                for (String victim : victims) {
                    ProcessHandle process = cluster.serverProcesses().get(victim);
                    assertThat(fault == 1 ? process.destroy() : process.destroyForcibly()).isTrue();
                }
                complete(inFlight, acknowledged);
                for (String victim : victims) {
                    cluster.serverProcesses().get(victim).onExit().get(60, TimeUnit.SECONDS);
                }
                batch = write(table, random, batch, 10 + random.nextInt(30), acknowledged);
                for (String victim : victims) {
                    String restarted = cluster.restartServer(victim);
                    backups.set(backups.indexOf(victim), restarted);
                }
                System.out.printf("cycle %d: fault %s on %s, %d writes acknowledged so far%n", cycle,
                        fault == 0 ? "kill -9" : fault == 1 ? "SIGTERM" : "kill -9 of both", victims,
                        acknowledged.size());
            }
            batch = write(table, random, batch, 20, acknowledged);

            List<String> live = new ArrayList<>(owners);
            live.addAll(backups);
            Awaitility.await("exactly two sound copies of every segment").atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
                        for (String master : owners) {
                            ServerStatsResponse stats = ControlServiceGrpc.newBlockingStub(channel(master, channels))
                                    .serverStats(ServerStatsRequest.getDefaultInstance());
                            Map<Long, Integer> copies = new HashMap<>();
                            for (String backup : live) {
                                ControlServiceGrpc.newBlockingStub(channel(backup, channels))
                                        .listReplicas(ListReplicasRequest.newBuilder()
                                                .setMasterId(stats.getServerId()).build()).getReplicasList().stream()
                                        .filter(r -> !r.getState().equals("CORRUPT"))
                                        .forEach(r -> copies.merge(r.getSegmentId(), 1, Integer::sum));
                            }
                            for (long segment : stats.getLogSegmentIdsList()) {
                                assertThat(copies.getOrDefault(segment, 0)).as("seed %d: copies of segment %d of"
                                        + " master %s", SEED, segment, master).isEqualTo(2);
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

    /** 32 writes of distinct keys in flight, and the values they write. */
    private record Batch(Map<String, CompletableFuture<Long>> futures, Map<String, String> values) {
    }

    /** Writes {@code batches} batches one after the other; returns the next batch number. */
    private static int write(Table table, Random random, int batch, int batches, Map<String, String> acknowledged)
            throws Exception {
        for (int end = batch + batches; batch < end; batch++) {
            complete(submit(table, random, batch), acknowledged);
        }
        return batch;
    }

    private static Batch submit(Table table, Random random, int batch) {
        Batch b = new Batch(new HashMap<>(), new HashMap<>());
        while (b.futures().size() < 32) {
            String key = "key-" + random.nextInt(4_000);
            if (!b.futures().containsKey(key)) {
                String value = "v" + batch + "-" + "x".repeat(random.nextInt(1_500));
                b.values().put(key, value);
                b.futures().put(key, table.writeAsync(key.getBytes(StandardCharsets.UTF_8),
                        value.getBytes(StandardCharsets.UTF_8)));
            }
        }
        return b;
    }

    /** Waits for a batch (a failure fails the test: writes must go on) and records what it wrote. */
    private static void complete(Batch batch, Map<String, String> acknowledged) throws Exception {
        for (Map.Entry<String, CompletableFuture<Long>> e : batch.futures().entrySet()) {
            e.getValue().get(60, TimeUnit.SECONDS);
            acknowledged.put(e.getKey(), batch.values().get(e.getKey()));
        }
    }

    private static ManagedChannel channel(String address, List<ManagedChannel> channels) {
        ManagedChannel channel = NettyChannelBuilder.forTarget(address).usePlaintext().build();
        channels.add(channel);
        return channel;
    }
}
