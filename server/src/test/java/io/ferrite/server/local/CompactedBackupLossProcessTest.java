package io.ferrite.server.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.proto.v1.ListReplicasRequest;
import io.ferrite.proto.v1.ServerStatsRequest;
import io.ferrite.proto.v1.ServerStatsResponse;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The first reproduction of issue 9, as a regression test with real processes: a master whose
 * cleaner has compacted segments in memory loses a backup holding their replicas (kill -9).
 * Re-replication used to copy each segment's original length out of its shorter compacted copy,
 * failing every millisecond for good, and the master's writes stalled forever. Now the log is
 * fully replicated again within seconds, writes go on, and every acknowledged write is in the
 * certified replicas recovery would read as well as in the master's memory.
 */
class CompactedBackupLossProcessTest {
    private static final long SEED = Long.getLong("ferrite.seed", 0xC0A1_0009L);
    private static final int KEYS = 6_000;
    private static final int VALUE_BYTES = 1_000;

    @TempDir
    Path dir;

    @Test
    void aBackupLostAfterCompactionIsReplacedAndWritesGoOn() throws Exception {
        LocalContext context = new LocalContext().servers(4).replicas(2).memory("32m").dataDir(dir)
                .serverFlags(List.of("--segment-size", "2m")).conclude();
        LocalCluster cluster = LocalCluster.start(context, new PrintStream(OutputStream.nullOutputStream()));
        try (ClusterProbe probe = new ClusterProbe();
             FerriteClient client = Ferrite.connect(cluster.address(),
                     ClientOptions.builder().timeout(Duration.ofSeconds(20)).build())) {
            client.createTable("compacted", 1);
            Table table = client.table("compacted");
            String master = probe.owners(cluster.address(), "compacted").iterator().next();
            long masterId = probe.control(master).serverStats(ServerStatsRequest.getDefaultInstance()).getServerId();
            Map<String, ProcessHandle> processes = cluster.serverProcesses();
            Random random = new Random(SEED);
            Map<String, String> acknowledged = new HashMap<>();
            // Overwrite until the cleaner has given back memory several times over.
            int batch = 0;
            ServerStats stats = ServerStats.of(probe, master);
            while (stats.segletsFreed() < 64) {
                assertThat(batch).as("seed %d: batches before the cleaner freed memory (%s)", SEED, stats)
                        .isLessThan(5_000);
                for (int i = 0; i < 20; i++, batch++) {
                    ClusterProbe.Batch.submit(table, random, batch, KEYS, VALUE_BYTES).complete(acknowledged);
                }
                stats = ServerStats.of(probe, master);
            }
            // Kill a backup holding closed replicas of the master's (compacted) segments.
            String victim = null;
            int most = 0;
            for (String server : processes.keySet()) {
                if (!server.equals(master)) {
                    int closed = (int) probe.control(server).listReplicas(ListReplicasRequest.newBuilder()
                            .setMasterId(masterId).build()).getReplicasList().stream().filter(r -> r.getClosed()).count();
                    if (closed > most) {
                        most = closed;
                        victim = server;
                    }
                }
            }
            assertThat(victim).as("a backup holding closed replicas").isNotNull();
            assertThat(processes.get(victim).destroyForcibly()).as("SIGKILL sent").isTrue();
            processes.get(victim).onExit().get(30, TimeUnit.SECONDS);
            long t0 = System.nanoTime();
            String dead = victim;
            List<String> survivors = processes.keySet().stream().filter(a -> !a.equals(dead)).toList();
            // Writes go on (each batch must complete), and the log is whole on two live backups again.
            for (int end = batch + 50; batch < end; batch++) {
                ClusterProbe.Batch.submit(table, random, batch, KEYS, VALUE_BYTES).complete(acknowledged);
            }
            probe.awaitSoundCopies(Set.of(master), survivors, 2, SEED);
            System.out.printf("seed %d: %s; log fully replicated again %.1f s after the kill%n", SEED, stats,
                    (System.nanoTime() - t0) / 1e9);
            ClusterProbe.assertReadBack(table, acknowledged, SEED);
            probe.assertAcknowledgedInCertifiedReplicas(Set.of(master), survivors, acknowledged, SEED);
        } finally {
            cluster.stop();
        }
    }

    /** What the test watches of the master's cleaner. */
    private record ServerStats(long bytesMoved, long segletsFreed, int segments) {
        static ServerStats of(ClusterProbe probe, String master) {
            ServerStatsResponse s = probe.control(master).serverStats(ServerStatsRequest.getDefaultInstance());
            return new ServerStats(s.getCleanerBytesMoved(), s.getCleanerSegletsFreed(), s.getSegments());
        }
    }
}
