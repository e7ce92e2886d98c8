package io.ferrite.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.server.testing.InJvmCluster;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * I10 at the server edge: SDK writes race a table drop (the coordinator's DropTable, each
 * owner's DropTableData), many rounds. Whatever each write was answered, no object of the
 * dropped table is left in any server's memory afterwards: a write either landed before the
 * drop (and went with it) or was refused, never answered OK and orphaned in a tablet that is
 * gone. The seed (printed) picks when in each round the drop lands.
 */
class DropWriteRaceTest {
    private static final long SEED = Long.getLong("ferrite.seed", 0xD20F_0010L);
    private static final int ROUNDS = 8;
    private static final int WRITES = 3_000;

    @Test
    void noWriteOutlivesItsDroppedTable() throws Exception {
        Random random = new Random(SEED);
        try (InJvmCluster cluster = InJvmCluster.builder().servers(3).start();
             FerriteClient client = Ferrite.connect(cluster.coordinatorAddress(),
                     ClientOptions.builder().timeout(Duration.ofSeconds(5)).build())) {
            for (int round = 0; round < ROUNDS; round++) {
                String name = "race-" + round;
                client.createTable(name, 3);
                Table table = client.table(name);
                int dropAfter = random.nextInt(WRITES);
                AtomicInteger completed = new AtomicInteger();
                List<CompletableFuture<Long>> writes = new ArrayList<>();
                for (int i = 0; i < WRITES; i++) {
                    byte[] key = ("k" + random.nextInt(1_000)).getBytes(StandardCharsets.UTF_8);
                    CompletableFuture<Long> write = table.writeAsync(key, new byte[1 + random.nextInt(200)]);
                    write.whenComplete((version, failure) -> completed.incrementAndGet());
                    writes.add(write);
                    if (i == dropAfter) {
                        Awaitility.await("some writes answered before the drop").atMost(Duration.ofSeconds(30))
                                .until(() -> completed.get() >= dropAfter / 2);
                        client.dropTable(name);
                    }
                }
                int ok = 0;
                for (CompletableFuture<Long> write : writes) {
                    try {
                        write.get(30, TimeUnit.SECONDS);
                        ok++;
                    } catch (java.util.concurrent.ExecutionException refused) {
                        // refused after the drop (the table is gone): allowed
                    }
                }
                int answered = ok;
                String context = "seed " + SEED + ", round " + round + " (drop after write " + dropAfter + ", "
                        + answered + " writes answered OK)";
                Awaitility.await(context + ": no object of the dropped table left on any server")
                        .atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                            for (FerriteServer server : cluster.servers()) {
                                assertThat(server.engine().stats().liveObjects()).as(context + " on " + server.address())
                                        .isZero();
                            }
                        });
            }
        }
    }
}
