package io.ferrite.master;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * I10: no write lands after its tablet is gone. Ownership is asked under the append lock, so a
 * write racing "withdraw ownership, then {@link ObjectManager#dropTable}" is either applied before
 * the drop (and dropped with the table) or refused.
 */
class DropRaceTest {
    private static final long TABLE = 5;
    private ObjectManager engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Deterministic: the write's ownership check says "owned", then the table is withdrawn and
     * dropped before the write goes on. Had the check run outside the append lock (as it did),
     * the drop would finish first and the write land in a table that is gone.
     */
    @Test
    void aWriteWhoseOwnershipCheckPassedIsDroppedWithTheTable() throws Exception {
        AtomicBoolean owned = new AtomicBoolean(true);
        AtomicBoolean pauseNextCheck = new AtomicBoolean();
        AtomicReference<Thread> dropper = new AtomicReference<>();
        CountDownLatch checking = new CountDownLatch(1);
        TabletOwnership ownership = (tableId, keyHash) -> {
            if (tableId != TABLE) {
                return true;
            }
            boolean answer = owned.get();
            if (pauseNextCheck.compareAndSet(true, false)) {
                checking.countDown();
                // Let the drop run as far as it can: to its end, or blocked on the append lock.
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    Thread t = dropper.get();
                    return t != null && (t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TERMINATED);
                });
            }
            return answer;
        };
        engine = new ObjectManager(new EngineContext().memoryBytes(64L << 20).segmentSizeBytes(2 << 20)
                .tabletOwnership(ownership).conclude());
        ObjectResult out = new ObjectResult();
        assertThat(engine.write(TABLE, bytes("before"), bytes("v"), RejectRules.NONE, out)).isEqualTo(Status.OK);

        pauseNextCheck.set(true);
        AtomicReference<Status> racing = new AtomicReference<>();
        Thread writer = Thread.ofPlatform().start(() ->
                racing.set(engine.write(TABLE, bytes("racing"), bytes("v"), RejectRules.NONE, new ObjectResult())));
        checking.await();
        Thread drop = Thread.ofPlatform().unstarted(() -> {
            owned.set(false);
            engine.dropTable(TABLE);
        });
        dropper.set(drop);
        drop.start();
        writer.join();
        drop.join();

        assertThat(racing.get()).isEqualTo(Status.OK); // applied before the drop ...
        owned.set(true);
        assertThat(engine.read(TABLE, bytes("racing"), out))
                .as("... so the drop removed it: nothing of a dropped table stays in memory")
                .isEqualTo(Status.OBJECT_DOESNT_EXIST);
        assertThat(engine.read(TABLE, bytes("before"), out)).isEqualTo(Status.OBJECT_DOESNT_EXIST);
        assertThat(engine.tableCounters()).doesNotContainKey(TABLE);
    }

    /** Randomized: writers race withdraw-and-drop; every write answered OK is gone after the drop. */
    @Test
    void writesRacingADropAreAppliedBeforeItOrRefused() throws Exception {
        long seed = TestSeeds.seed(20_261_207L);
        System.out.println("DropRaceTest seed " + seed);
        Random random = new Random(seed);
        AtomicBoolean owned = new AtomicBoolean(true);
        engine = new ObjectManager(new EngineContext().memoryBytes(64L << 20).segmentSizeBytes(2 << 20)
                .tabletOwnership((tableId, keyHash) -> tableId != TABLE || owned.get()).conclude());
        ObjectResult out = new ObjectResult();
        int rounds = 15;
        for (int round = 0; round < rounds; round++) {
            owned.set(true);
            int writers = 2;
            List<List<String>> acknowledged = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            CountDownLatch started = new CountDownLatch(writers);
            for (int w = 0; w < writers; w++) {
                List<String> mine = new ArrayList<>();
                acknowledged.add(mine);
                int id = w;
                int r = round;
                threads.add(Thread.ofPlatform().start(() -> {
                    ObjectResult result = new ObjectResult();
                    started.countDown();
                    for (int i = 0; ; i++) {
                        String key = "r" + r + "-w" + id + "-" + i;
                        Status status = engine.write(TABLE, bytes(key), bytes("v"), RejectRules.NONE, result);
                        if (status == Status.UNKNOWN_TABLET) {
                            return;
                        }
                        mine.add(key);
                    }
                }));
            }
            started.await();
            // Let the writers run a random while, measured in writes done, before the drop.
            int before = random.nextInt(2_000);
            await().atMost(Duration.ofSeconds(10)).until(() -> engine.tableCounters().containsKey(TABLE)
                    && engine.tableCounters().get(TABLE).objects >= before);
            owned.set(false);
            engine.dropTable(TABLE);
            for (Thread t : threads) {
                t.join();
            }
            owned.set(true);
            for (List<String> keys : acknowledged) {
                for (String key : keys) {
                    assertThat(engine.read(TABLE, bytes(key), out))
                            .as(TestSeeds.describe(seed) + "round " + round + ": " + key + " was answered OK before "
                                    + "the drop finished, so the drop must have removed it")
                            .isEqualTo(Status.OBJECT_DOESNT_EXIST);
                }
            }
            assertThat(engine.tableCounters()).as(TestSeeds.describe(seed)).doesNotContainKey(TABLE);
        }
    }
}
