package io.ferrite.server.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.backup.ReplicaStore;
import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.ListReplicasRequest;
import io.ferrite.proto.v1.ReadReplicaRequest;
import io.ferrite.proto.v1.ReadReplicaResponse;
import io.ferrite.proto.v1.ReplicaInfo;
import io.ferrite.proto.v1.ServerStatsRequest;
import io.ferrite.proto.v1.Status;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
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
    private static final int KEYS = 3_000;
    private static final int MAX_VALUE_BYTES = 2_000;

    @TempDir
    Path dir;

    @Test
    void killingABackupProcessLosesNoAcknowledgedWriteAndItsRestartReloadsAndChecksItsReplicas() throws Exception {
        LocalContext context = new LocalContext().servers(4).replicas(2).memory("64m").dataDir(dir)
                .serverFlags(List.of("--segment-size", "2m")).conclude();
        LocalCluster cluster = LocalCluster.start(context, new PrintStream(OutputStream.nullOutputStream()));
        try (ClusterProbe probe = new ClusterProbe();
             FerriteClient client = Ferrite.connect(cluster.address(),
                     ClientOptions.builder().timeout(Duration.ofSeconds(20)).build())) {
            client.createTable("kill", 3);
            Table table = client.table("kill");
            Set<String> owners = probe.owners(cluster.address(), "kill");
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
                    ClusterProbe.Batch.submit(table, random, batch, KEYS, MAX_VALUE_BYTES).complete(acknowledged);
                }
                for (String master : owners) {
                    long masterId = probe.control(master).serverStats(ServerStatsRequest.getDefaultInstance())
                            .getServerId();
                    probe.control(victim).listReplicas(ListReplicasRequest.newBuilder().setMasterId(masterId).build())
                            .getReplicasList().stream().filter(r -> r.getState().equals("FLUSHED"))
                            .forEach(flushedOnVictim::add);
                }
            }
            // Kill it under load: the kill lands while a batch is in flight.
            long slowestBatchNs = 0;
            for (int end = batch + 200; batch < end; batch++) {
                ClusterProbe.Batch inFlight = ClusterProbe.Batch.submit(table, random, batch, KEYS, MAX_VALUE_BYTES);
                if (batch == end - 190) {
                    assertThat(processes.get(victim).destroyForcibly()).as("SIGKILL sent").isTrue();
                }
                slowestBatchNs = Math.max(slowestBatchNs, inFlight.complete(acknowledged));
            }
            processes.get(victim).onExit().get(30, TimeUnit.SECONDS);
            System.out.printf("seed %d: slowest batch of 32 writes %.1f ms (the kill and re-replication fall in one)%n",
                    SEED, slowestBatchNs / 1e6);

            // Two live copies of every segment of every master (masters never hold their own).
            List<String> survivors = processes.keySet().stream().filter(a -> !a.equals(victim)).toList();
            probe.awaitSoundCopies(owners, survivors, 2, SEED);

            // Damage one replica file the victim flushed, then start it again on its directories.
            ReplicaInfo damaged = flushedOnVictim.get(new Random(SEED).nextInt(flushedOnVictim.size()));
            Path file = cluster.serverDataDir(victim).resolve("backup")
                    .resolve(ReplicaStore.fileName(damaged.getMasterId(), damaged.getSegmentId()));
            flipByte(file, ReplicaStore.FILE_HEADER_BYTES + damaged.getCertificateLength() / 2);
            String restarted = cluster.restartServer(victim);
            ControlServiceGrpc.ControlServiceBlockingStub victimControl = probe.control(restarted);
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
                ClusterProbe.Batch.submit(table, random, batch, KEYS, MAX_VALUE_BYTES).complete(acknowledged);
            }
            List<String> live = new ArrayList<>(survivors);
            live.add(restarted);
            probe.awaitSoundCopies(owners, live, 2, SEED);
            ClusterProbe.assertReadBack(table, acknowledged, SEED);
            probe.assertAcknowledgedInCertifiedReplicas(owners, live, acknowledged, SEED);
        } finally {
            cluster.stop();
        }
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
}
