package io.ferrite.server.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.proto.v1.ServerStatsRequest;
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
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Losing ZooKeeper is not a crash (issue 9, I5), with real processes: a {@code ferrite local}
 * cluster of three servers replicating twice, with a 4 s session timeout (the shortest the local
 * ZooKeeper's 2 s tick allows), ~3,000 keys written. ZooKeeper is SIGSTOPped for twice the
 * session timeout, so every session expires, then SIGCONTed; later it is SIGKILLed and started
 * again on its data directory. After each, every server is listed UP under its old id, every
 * acknowledged key reads back with its latest value, writes work again, and every segment of
 * every master's log has two sound copies (ListReplicas: what recovery would trust), still under
 * the master's original id.
 */
class ZooKeeperOutageProcessTest {
    private static final long SEED = Long.getLong("ferrite.seed", 0x200_0A6EL);
    private static final int SESSION_TIMEOUT_MS = 4_000;
    private static final int KEYS = 3_000;
    private static final int MAX_VALUE_BYTES = 1_000;
    /** How soon after ZooKeeper's return the cluster must serve again. */
    private static final Duration SERVES_AGAIN_WITHIN = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    @Test
    void aZooKeeperPauseAndAZooKeeperKillLoseNothing() throws Exception {
        System.out.printf("ZooKeeperOutageProcessTest: seed %d%n", SEED);
        LocalContext context = new LocalContext().servers(3).replicas(2).memory("64m").dataDir(dir)
                .serverFlags(List.of("--segment-size", "2m", "--session-timeout-ms",
                        Integer.toString(SESSION_TIMEOUT_MS))).conclude();
        LocalCluster cluster = LocalCluster.start(context, new PrintStream(OutputStream.nullOutputStream()));
        try (ClusterProbe probe = new ClusterProbe();
             FerriteClient client = Ferrite.connect(cluster.address(),
                     ClientOptions.builder().timeout(Duration.ofSeconds(30)).build())) {
            client.createTable("zk", 3);
            Table table = client.table("zk");
            Set<String> servers = cluster.serverProcesses().keySet();
            Map<String, Long> ids = ids(probe, servers);
            Random random = new Random(SEED);
            Map<String, String> acknowledged = new HashMap<>();
            int batch = 0;
            while (acknowledged.size() < KEYS * 9 / 10) {
                ClusterProbe.Batch.submit(table, random, batch++, KEYS, MAX_VALUE_BYTES).complete(acknowledged);
            }
            System.out.printf("seed %d: %d keys acknowledged before the outages%n", SEED, acknowledged.size());

            // 1. ZooKeeper paused for twice the session timeout: every session expires.
            ProcessHandle zk = cluster.zooKeeperProcess();
            signal(zk, "STOP");
            long stoppedNs = System.nanoTime();
            try {
                // Nothing to wait for but time: ZooKeeper is stopped, so no event can tell us.
                TimeUnit.MILLISECONDS.sleep(2L * SESSION_TIMEOUT_MS);
            } finally {
                signal(zk, "CONT");
            }
            System.out.printf("ZooKeeper stopped for %.1f s%n", (System.nanoTime() - stoppedNs) / 1e9);
            batch = checkNothingLost(probe, cluster, table, random, batch, acknowledged, servers, ids, "after SIGSTOP");
            for (int i = 0; i < 3; i++) {
                // The sessions did expire: each server went through a rejoin, not a mere reconnection.
                assertThat(java.nio.file.Files.readString(context.logFile("server-" + i)))
                        .as("server-%d's log", i).contains("rejoined the cluster under its id");
            }

            // 2. ZooKeeper killed with SIGKILL and started again on its data directory.
            cluster.restartZooKeeperAfterKill9();
            checkNothingLost(probe, cluster, table, random, batch, acknowledged, servers, ids, "after kill -9");
        } finally {
            cluster.stop();
        }
    }

    /** Same ids, reads back, writes again (timed from ZooKeeper's return), two certified copies of every log. */
    private static int checkNothingLost(ClusterProbe probe, LocalCluster cluster, Table table, Random random, int batch,
                                        Map<String, String> acknowledged, Set<String> servers, Map<String, Long> ids,
                                        String when) throws Exception {
        long t0 = System.nanoTime();
        // A write that succeeds (the client retries RETRY / UNKNOWN_TABLET until its deadline).
        ClusterProbe.Batch.submit(table, random, batch++, KEYS, MAX_VALUE_BYTES).complete(acknowledged);
        double servingAfterS = (System.nanoTime() - t0) / 1e9;
        System.out.printf("seed %d, %s: writes served again %.1f s after ZooKeeper's return%n", SEED, when,
                servingAfterS);
        assertThat(servingAfterS).as("seconds until writes work %s", when)
                .isLessThan(SERVES_AGAIN_WITHIN.toSeconds());
        ClusterProbe.assertReadBack(table, acknowledged, SEED);
        assertThat(ids(probe, servers)).as("server ids %s (no new generation)", when).isEqualTo(ids);
        for (int end = batch + 10; batch < end; batch++) {
            ClusterProbe.Batch.submit(table, random, batch, KEYS, MAX_VALUE_BYTES).complete(acknowledged);
        }
        probe.awaitSoundCopies(servers, servers, 2, SEED);
        ClusterProbe.assertReadBack(table, acknowledged, SEED);
        probe.assertAcknowledgedInCertifiedReplicas(servers, servers, acknowledged, SEED);
        return batch;
    }

    private static Map<String, Long> ids(ClusterProbe probe, Set<String> servers) {
        Map<String, Long> ids = new TreeMap<>();
        for (String server : servers) {
            ids.put(server, probe.control(server).serverStats(ServerStatsRequest.getDefaultInstance()).getServerId());
        }
        return ids;
    }

    private static void signal(ProcessHandle process, String signal) throws Exception {
        List<String> command = new ArrayList<>(List.of("kill", "-" + signal, Long.toString(process.pid())));
        assertThat(new ProcessBuilder(command).inheritIO().start().waitFor()).as("kill -%s", signal).isZero();
    }
}
