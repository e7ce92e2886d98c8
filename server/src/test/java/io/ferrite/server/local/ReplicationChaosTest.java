package io.ferrite.server.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
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
    private static final int KEYS = 4_000;
    private static final int MAX_VALUE_BYTES = 1_500;

    @TempDir
    Path dir;

    @Test
    void backupsFailingAgainAndAgainLoseNoAcknowledgedWrite() throws Exception {
        System.out.printf("ReplicationChaosTest: seed %d, %d cycles%n", SEED, CYCLES);
        Random random = new Random(SEED);
        LocalContext context = new LocalContext().servers(5).replicas(2).memory("64m").dataDir(dir)
                .serverFlags(List.of("--segment-size", "2m")).conclude();
        LocalCluster cluster = LocalCluster.start(context, new PrintStream(OutputStream.nullOutputStream()));
        try (ClusterProbe probe = new ClusterProbe();
             FerriteClient client = Ferrite.connect(cluster.address(),
                     ClientOptions.builder().timeout(Duration.ofSeconds(30)).build())) {
            client.createTable("chaos", 3);
            Table table = client.table("chaos");
            Set<String> owners = probe.owners(cluster.address(), "chaos");
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
                ClusterProbe.Batch inFlight = ClusterProbe.Batch.submit(table, random, batch++, KEYS, MAX_VALUE_BYTES);
                for (String victim : victims) {
                    ProcessHandle process = cluster.serverProcesses().get(victim);
                    assertThat(fault == 1 ? process.destroy() : process.destroyForcibly()).isTrue();
                }
                inFlight.complete(acknowledged);
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
            write(table, random, batch, 20, acknowledged);

            List<String> live = new ArrayList<>(owners);
            live.addAll(backups);
            probe.awaitSoundCopies(owners, live, 2, SEED);
            ClusterProbe.assertReadBack(table, acknowledged, SEED);
            probe.assertAcknowledgedInCertifiedReplicas(owners, live, acknowledged, SEED);
        } finally {
            cluster.stop();
        }
    }

    /** Writes {@code batches} batches one after the other; returns the next batch number. */
    private static int write(Table table, Random random, int batch, int batches, Map<String, String> acknowledged)
            throws Exception {
        for (int end = batch + batches; batch < end; batch++) {
            ClusterProbe.Batch.submit(table, random, batch, KEYS, MAX_VALUE_BYTES).complete(acknowledged);
        }
        return batch;
    }
}
