package io.ferrite.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.backup.BackupService;
import io.ferrite.backup.ReplicaInfo;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.master.log.LogSegment;
import io.ferrite.server.testing.InJvmCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * I8, frees are reliable: one live backup loses every FREE its masters send (the
 * {@link BackupService#dropFrees} fault hook: received and ignored, as a lost datagram) while the
 * cleaner frees segments under an overwrite load. Its periodic reconciliation with the masters
 * drops the orphans while it stays up, and drops nothing still needed: in the end every backup
 * holds only segments of its masters' logs, and every segment of every log has exactly R = 2
 * copies. Every acknowledged write reads back.
 */
class LostFreeTest {
    private static final long SEED = Long.getLong("ferrite.seed", 0x1057_F4EEL);

    @TempDir
    Path dir;

    @Test
    void aBackupThatLosesFreesDropsItsOrphansByReconciliationAndKeepsWhatIsNeeded() throws Exception {
        AtomicInteger index = new AtomicInteger();
        try (InJvmCluster cluster = InJvmCluster.builder().servers(4).memoryBytes(16L << 20).serverSettings(c -> {
            int i = index.getAndIncrement();
            c.backup(true).replicas(2).segmentSizeBytes(2 << 20).failureDomain("rack-" + i)
                    .backupBufferDir(dir.resolve("server-" + i).resolve("buffers"))
                    .backupDir(dir.resolve("server-" + i).resolve("backup"))
                    .backupReconcileIntervalMs(500).replicationIpc(false);
        }).start(); FerriteClient client = Ferrite.connect(cluster.coordinatorAddress())) {
            // One master takes every write, so its log passes its size cap and combined cleaning
            // frees segments; the lossy backup is another server (it holds that master's replicas).
            client.createTable("frees", 1);
            Table table = client.table("frees");
            long owner = cluster.tabletMap("frees").getTablets(0).getOwnerId();
            FerriteServer lossy = cluster.servers().stream()
                    .filter(s -> s.serverId().orElseThrow().asLong() != owner).findFirst().orElseThrow();
            lossy.backupService().orElseThrow().dropFrees(true);
            Random random = new Random(SEED);
            Map<String, String> acknowledged = new HashMap<>();
            for (int batch = 0; batch < 500; batch++) {
                Map<String, CompletableFuture<?>> inFlight = new HashMap<>();
                Map<String, String> values = new HashMap<>();
                while (inFlight.size() < 64) {
                    String key = "key-" + random.nextInt(2_000);
                    if (!inFlight.containsKey(key)) {
                        String value = "v" + batch + "x".repeat(random.nextInt(3_000));
                        values.put(key, value);
                        inFlight.put(key, table.writeAsync(utf8(key), utf8(value)));
                    }
                }
                CompletableFuture.allOf(inFlight.values().toArray(new CompletableFuture<?>[0])).join();
                acknowledged.putAll(values);
            }
            long cleaned = 0;
            for (FerriteServer master : cluster.servers()) {
                cleaned += master.engine().stats().cleaner().combinedPasses();
            }
            assertThat(cleaned).as("seed %d: the cleaner freed segments", SEED).isPositive();

            Awaitility.await("orphans dropped, every segment on exactly 2 backups").atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
                        for (FerriteServer master : cluster.servers()) {
                            long masterId = master.serverId().orElseThrow().asLong();
                            Set<Long> inLog = new HashSet<>();
                            for (LogSegment s : new ArrayList<>(master.engine().log().segments())) {
                                inLog.add(s.id());
                            }
                            Map<Long, Integer> copies = new HashMap<>();
                            for (FerriteServer holder : cluster.servers()) {
                                for (ReplicaInfo r : holder.replicaStore().orElseThrow().list(masterId)) {
                                    copies.merge(r.segmentId(), 1, Integer::sum);
                                    assertThat(inLog).as("seed %d: backup %s holds segment %d of master %d", SEED,
                                            holder.address(), r.segmentId(), masterId).contains(r.segmentId());
                                }
                            }
                            for (long segment : inLog) {
                                assertThat(copies.getOrDefault(segment, 0)).as("seed %d: copies of segment %d of"
                                        + " master %d", SEED, segment, masterId).isEqualTo(2);
                            }
                        }
                    });
            assertThat(lossy.replicaStore().orElseThrow().orphansDropped())
                    .as("seed %d: the lossy backup's orphans went by reconciliation", SEED).isPositive();
            for (Map.Entry<String, String> e : acknowledged.entrySet()) {
                assertThat(table.read(utf8(e.getKey())).map(v -> new String(v.value(), StandardCharsets.UTF_8)).orElse(null))
                        .as("seed %d: %s", SEED, e.getKey()).isEqualTo(e.getValue());
            }
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
