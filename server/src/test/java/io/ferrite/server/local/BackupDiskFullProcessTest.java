package io.ferrite.server.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.proto.v1.ListReplicasRequest;
import io.ferrite.proto.v1.ReadReplicaRequest;
import io.ferrite.proto.v1.ReadReplicaResponse;
import io.ferrite.proto.v1.ReplicaInfo;
import io.ferrite.proto.v1.ServerStatsRequest;
import io.ferrite.proto.v1.ServerStatsResponse;
import io.ferrite.proto.v1.Status;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * I7 with real processes: a {@code ferrite local} cluster of four servers replicating twice
 * (2 MiB segments) where one server's replica buffer directory is a 4 MiB tmpfs (mounted by the
 * test: skipped unless it runs as root), room for one buffer: it fills at once and again
 * whenever flushes make room. That backup refuses opens (NO_SPACE) instead of dying of SIGBUS
 * on a sparse buffer; its masters place the replicas elsewhere and the cluster keeps writing.
 * Nothing is lost: every acknowledged write reads back, and every segment of every master's log
 * has exactly two sound copies whose certified bytes ReadReplica serves, closed ones complete
 * and equal on both.
 */
class BackupDiskFullProcessTest {
    private static final long SEED = Long.getLong("ferrite.seed", 0xD15C_F011L);
    private static final int KEYS = 3_000;
    private static final int MAX_VALUE_BYTES = 2_000;

    @TempDir
    Path dir;

    @Test
    void aBackupWhoseBufferDiskFillsRefusesReplicasAndTheClusterWritesOnLosingNothing() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "needs root to mount a size-limited tmpfs; skipped");
        Path buffers = Files.createDirectories(dir.resolve("server-1").resolve("backup-buffers"));
        Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", buffers.toString()) == 0,
                "mount -t tmpfs failed; skipped");
        try {
            LocalContext context = new LocalContext().servers(4).replicas(2).memory("64m").dataDir(dir)
                    .serverFlags(List.of("--segment-size", "2m")).conclude();
            LocalCluster cluster = LocalCluster.start(context, new PrintStream(OutputStream.nullOutputStream()));
            try (ClusterProbe probe = new ClusterProbe();
                 FerriteClient client = Ferrite.connect(cluster.address(),
                         ClientOptions.builder().timeout(Duration.ofSeconds(20)).build())) {
                client.createTable("full", 3);
                Table table = client.table("full");
                Set<String> owners = probe.owners(cluster.address(), "full");
                Random random = new Random(SEED);
                Map<String, String> acknowledged = new HashMap<>();
                long t0 = System.nanoTime();
                for (int batch = 0; batch < 300; batch++) {
                    ClusterProbe.Batch.submit(table, random, batch, KEYS, MAX_VALUE_BYTES).complete(acknowledged);
                }
                System.out.printf("seed %d: 300 batches of 32 writes in %.1f s with one backup's buffer disk full%n",
                        SEED, (System.nanoTime() - t0) / 1e9);
                String log = Files.readString(context.logsDir().resolve("server-1.log"));
                assertThat(log).as("seed %d: the small buffer disk filled and was reported", SEED)
                        .contains("backup storage: ALLOCATE failed (NO_SPACE)");
                assertThat(log).as("no receive or flush thread died").doesNotContain("SIGBUS")
                        .doesNotContain("Exception in thread");

                List<String> servers = new ArrayList<>(cluster.serverProcesses().keySet());
                assertThat(cluster.serverProcesses().values()).as("every server still runs")
                        .allMatch(ProcessHandle::isAlive);
                probe.awaitSoundCopies(owners, servers, 2, SEED);
                awaitCertifiedCopies(probe, owners, servers);
                ClusterProbe.assertReadBack(table, acknowledged, SEED);
                probe.assertAcknowledgedInCertifiedReplicas(owners, servers, acknowledged, SEED);
            } finally {
                cluster.stop();
            }
        } finally {
            run("umount", "-l", buffers.toString());
        }
    }

    /**
     * Every segment in each master's log: two replicas whose certified bytes ReadReplica serves
     * (as many as the certificate covers); a closed segment's copies are complete (certified =
     * held) and carry the same certificate.
     */
    private static void awaitCertifiedCopies(ClusterProbe probe, Set<String> masters, List<String> backups) {
        Awaitility.await("two certified copies of every segment").atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                    for (String master : masters) {
                        ServerStatsResponse stats = probe.control(master)
                                .serverStats(ServerStatsRequest.getDefaultInstance());
                        Map<Long, List<ReplicaInfo>> copies = new HashMap<>();
                        Map<ReplicaInfo, String> where = new HashMap<>();
                        for (String backup : backups) {
                            for (ReplicaInfo r : probe.control(backup).listReplicas(ListReplicasRequest.newBuilder()
                                    .setMasterId(stats.getServerId()).build()).getReplicasList()) {
                                copies.computeIfAbsent(r.getSegmentId(), s -> new ArrayList<>()).add(r);
                                where.put(r, backup);
                            }
                        }
                        for (long segment : stats.getLogSegmentIdsList()) {
                            List<ReplicaInfo> held = copies.getOrDefault(segment, List.of());
                            assertThat(held).as("seed %d: copies of segment %d of %s", SEED, segment, master)
                                    .hasSize(2);
                            for (ReplicaInfo r : held) {
                                ReadReplicaResponse read = probe.control(where.get(r)).readReplica(ReadReplicaRequest
                                        .newBuilder().setMasterId(r.getMasterId()).setSegmentId(segment).build());
                                assertThat(read.getStatus()).isEqualTo(Status.OK);
                                assertThat(read.getBytes().size()).isEqualTo(r.getCertificateLength());
                                if (r.getClosed()) {
                                    assertThat(r.getCertificateLength()).as("a closed replica is complete")
                                            .isEqualTo(r.getLengthBytes());
                                }
                            }
                            if (held.stream().allMatch(ReplicaInfo::getClosed)) {
                                assertThat(held).extracting(ReplicaInfo::getCertificateLength,
                                        ReplicaInfo::getCertificateChecksum).as("both copies certify the same bytes")
                                        .containsOnly(org.assertj.core.groups.Tuple.tuple(
                                                held.getFirst().getCertificateLength(),
                                                held.getFirst().getCertificateChecksum()));
                            }
                        }
                    }
                });
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
