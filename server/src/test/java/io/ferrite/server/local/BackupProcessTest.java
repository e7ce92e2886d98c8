package io.ferrite.server.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.backup.ReplicaStore;
import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.GetTabletMapRequest;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.ListReplicasRequest;
import io.ferrite.proto.v1.ReadReplicaRequest;
import io.ferrite.proto.v1.ReadReplicaResponse;
import io.ferrite.proto.v1.ReplicaInfo;
import io.ferrite.proto.v1.Status;
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
 * Kill -9 of a backup process under a write load, then its restart: a {@code ferrite local}
 * cluster of four server processes replicating twice (2 MiB segments, so segments close and
 * flush to disk); the table lives on three of them, the fourth only backs up. It is SIGKILLed
 * in the middle of the load. Every master re-replicates what it held, so each segment of every
 * log is again on two live backups (checked with ListReplicas on the survivors). Then one of
 * the replica files it flushed gets a flipped byte, and the process is started again on the
 * same directories: it reloads its replicas, reports the damaged one CORRUPT and refuses to
 * serve it, and the cluster goes on writing. Every acknowledged write reads back with its
 * latest value.
 */
class BackupProcessTest {
    private static final long SEED = Long.getLong("ferrite.seed", 0xB4C_0009L);

    @TempDir
    Path dir;

    @Test
    void killingABackupProcessLosesNoAcknowledgedWriteAndItsRestartReloadsAndChecksItsReplicas() throws Exception {
        LocalContext context = new LocalContext().servers(4).replicas(2).memory("64m").dataDir(dir)
                .serverFlags(List.of("--segment-size", "2m")).conclude();
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
            // Write until the victim flushed a replica to disk (one of them is damaged while it is down).
            List<ReplicaInfo> flushedOnVictim = new ArrayList<>();
            int batch = 0;
            while (flushedOnVictim.isEmpty()) {
                assertThat(batch).as("batches written before the victim flushed a replica").isLessThan(2_000);
                for (int i = 0; i < 20; i++, batch++) {
                    writeBatch(table, random, batch, acknowledged);
                }
                for (String master : owners) {
                    long masterId = ControlServiceGrpc.newBlockingStub(channel(master, channels))
                            .serverStats(ServerStatsRequest.getDefaultInstance()).getServerId();
                    ControlServiceGrpc.newBlockingStub(channel(victim, channels)).listReplicas(ListReplicasRequest
                            .newBuilder().setMasterId(masterId).build()).getReplicasList().stream()
                            .filter(r -> r.getState().equals("FLUSHED")).forEach(flushedOnVictim::add);
                }
            }
            // Kill it under load: the kill lands while a batch is in flight.
            long slowestBatchNs = 0;
            for (int end = batch + 200; batch < end; batch++) {
                if (batch == end - 190) {
                    assertThat(processes.get(victim).destroyForcibly()).as("SIGKILL sent").isTrue();
                }
                slowestBatchNs = Math.max(slowestBatchNs, writeBatch(table, random, batch, acknowledged));
            }
            processes.get(victim).onExit().get(30, TimeUnit.SECONDS);
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

            // Damage one replica file the victim flushed, then start it again on its directories.
            assertThat(flushedOnVictim).as("replicas the victim flushed before the kill").isNotEmpty();
            ReplicaInfo damaged = flushedOnVictim.get(new Random(SEED).nextInt(flushedOnVictim.size()));
            Path file = cluster.serverDataDir(victim).resolve("backup")
                    .resolve(ReplicaStore.fileName(damaged.getMasterId(), damaged.getSegmentId()));
            flipByte(file, ReplicaStore.FILE_HEADER_BYTES + damaged.getCertificateLength() / 2);
            String restarted = cluster.restartServer(victim);
            var victimControl = ControlServiceGrpc.newBlockingStub(channel(restarted, channels));
            List<ReplicaInfo> reloaded = victimControl.listReplicas(ListReplicasRequest.newBuilder()
                    .setMasterId(damaged.getMasterId()).build()).getReplicasList();
            assertThat(reloaded).as("the damaged replica, reloaded").filteredOn(r -> r.getSegmentId()
                    == damaged.getSegmentId()).singleElement().extracting(ReplicaInfo::getState).isEqualTo("CORRUPT");
            assertThat(reloaded).as("its other replicas of that master verify").filteredOn(r -> r.getSegmentId()
                    != damaged.getSegmentId()).allMatch(r -> !r.getState().equals("CORRUPT"));
            ReadReplicaResponse read = victimControl.readReplica(ReadReplicaRequest.newBuilder()
                    .setMasterId(damaged.getMasterId()).setSegmentId(damaged.getSegmentId()).build());
            assertThat(read.getStatus()).as("a corrupt replica is never served").isEqualTo(Status.CORRUPT_REPLICA);
            assertThat(read.getBytes().isEmpty()).isTrue();

            // The cluster keeps writing with the restarted backup among its servers; the restarted
            // backup drops the reloaded copies its masters replaced meanwhile (the damaged one stays,
            // listed as evidence), so every segment ends with exactly two sound copies.
            for (int end = batch + 50; batch < end; batch++) {
                writeBatch(table, random, batch, acknowledged);
            }
            List<String> live = new ArrayList<>(survivors);
            live.add(restarted);
            Awaitility.await("exactly two sound copies of every segment").atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
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
                                assertThat(copies.getOrDefault(segment, 0))
                                        .as("sound copies of segment %d of master %s", segment, master).isEqualTo(2);
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

    /** Writes 32 distinct keys at once and records them once acknowledged; returns how long the batch took. */
    private static long writeBatch(Table table, Random random, int batch, Map<String, String> acknowledged)
            throws Exception {
        Map<String, CompletableFuture<Long>> inFlight = new HashMap<>();
        Map<String, String> values = new HashMap<>();
        while (inFlight.size() < 32) {
            String key = "key-" + random.nextInt(3_000);
            if (!inFlight.containsKey(key)) {
                String value = "v" + batch + "-" + "x".repeat(random.nextInt(2_000));
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
        return System.nanoTime() - t0;
    }

    private static void flipByte(Path file, long at) throws java.io.IOException {
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            channel.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 0x5A));
            b.rewind();
            channel.write(b, at);
        }
    }

    private static ManagedChannel channel(String address, List<ManagedChannel> channels) {
        ManagedChannel channel = NettyChannelBuilder.forTarget(address).usePlaintext().build();
        channels.add(channel);
        return channel;
    }
}
