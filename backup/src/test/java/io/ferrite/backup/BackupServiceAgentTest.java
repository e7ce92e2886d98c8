package io.ferrite.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.ferrite.proto.ReplicationStreams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.CachedNanoClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BackupService} as an agent driven by hand: {@code doWork()} with a hand-moved clock and
 * a fake master directory, no runner thread. Reconciliation asks each UP master once per
 * interval (never twice while a question is pending, never a master that is not UP, never
 * before this server is registered), applies answers on the agent's thread, keeps replicas
 * opened after the question, and asks again after a failure.
 */
class BackupServiceAgentTest {
    private static final long MASTER = 3L << 32 | 1;
    private static final long CRASHED = 4L << 32 | 1;
    private static final long SELF = 9L << 32 | 1;
    private static final long OTHER_BACKUP = 8L << 32 | 1;
    private static final long INTERVAL_NS = TimeUnit.SECONDS.toNanos(3);

    @TempDir
    Path dir;

    /** The fake directory: every question, answered when the test says. */
    private final List<Long> asked = new ArrayList<>();
    private final List<CompletableFuture<Optional<ReplicaStore.MasterReplicas>>> pending = new ArrayList<>();

    @Test
    void reconciliationRunsOncePerIntervalOnTheHandMovedClock() throws Exception {
        MediaDriver.Context driverContext = new MediaDriver.Context().aeronDirectoryName(dir.resolve("aeron").toString())
                .threadingMode(ThreadingMode.SHARED).dirDeleteOnStart(true).dirDeleteOnShutdown(true);
        CachedNanoClock clock = new CachedNanoClock();
        clock.update(1_000);
        long[] self = {0};
        try (MediaDriver driver = MediaDriver.launchEmbedded(driverContext);
             Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
             ReplicaStore store = new ReplicaStore(dir.resolve("buffers"), dir.resolve("backup"), 8);
             BackupService backup = new BackupService(aeron,
                     List.of(new ReplicationStreams.Endpoint("aeron:ipc?alias=agent-test", ReplicationStreams.REQUESTS)),
                     store, () -> self[0], id -> id == MASTER, this::ask, INTERVAL_NS, clock)) {
            for (long segment = 1; segment <= 3; segment++) {
                assertThat(store.open(MASTER, segment, 1, 1 << 16).ok()).isTrue();
            }
            assertThat(store.open(CRASHED, 1, 1, 1 << 16).ok()).isTrue();

            at(clock, backup, INTERVAL_NS);
            assertThat(asked).as("not registered yet: nobody asked").isEmpty();
            self[0] = SELF;
            at(clock, backup, INTERVAL_NS + INTERVAL_NS - 1);
            assertThat(asked).as("the interval restarts after a skipped round").isEmpty();
            at(clock, backup, 2 * INTERVAL_NS);
            assertThat(asked).as("the UP master only (the crashed one's replicas are kept)").containsExactly(MASTER);
            at(clock, backup, 3 * INTERVAL_NS);
            assertThat(asked).as("not again while its answer is pending").containsExactly(MASTER);

            // A replica opened after the question is newer than the answer: kept, whatever it says.
            assertThat(store.open(MASTER, 2, 2, 1 << 16).ok()).as("segment 2 reopened at a higher epoch").isTrue();
            pending.getFirst().complete(Optional.of(new ReplicaStore.MasterReplicas(MASTER, true, 3,
                    Map.of(1L, Set.of(SELF), 2L, Set.of(OTHER_BACKUP)))));
            assertThat(store.list(MASTER)).as("applied by the agent's next cycle, not the answering thread")
                    .hasSize(3);
            at(clock, backup, 3 * INTERVAL_NS + 1);
            assertThat(store.list(MASTER)).extracting(ReplicaInfo::segmentId).as("segment 3 was freed (lost FREE)")
                    .containsExactly(1L, 2L);
            assertThat(store.list(CRASHED)).hasSize(1);
            assertThat(backup.reconciliations()).isEqualTo(1);
            assertThat(store.orphansDropped()).isEqualTo(1);

            // The next round is one interval after the previous one; a failed question changes nothing.
            at(clock, backup, 4 * INTERVAL_NS - 1);
            assertThat(asked).hasSize(1);
            at(clock, backup, 4 * INTERVAL_NS);
            assertThat(asked).hasSize(2);
            pending.get(1).completeExceptionally(new IllegalStateException("UNAVAILABLE"));
            at(clock, backup, 4 * INTERVAL_NS + 1);
            assertThat(store.list(MASTER)).hasSize(2);
            at(clock, backup, 5 * INTERVAL_NS);
            assertThat(asked).as("asked again after the failure").hasSize(3);
            // An answer that the master is not UP (or not this generation) keeps everything.
            pending.get(2).complete(Optional.empty());
            at(clock, backup, 5 * INTERVAL_NS + 1);
            assertThat(store.list(MASTER)).hasSize(2);
            assertThat(backup.reconciliations()).isEqualTo(1);
        }
    }

    /**
     * A master that is not UP keeps its replicas here until the directory says its recovery is
     * over (the case of a backup that was down when the coordinator freed them): then they go,
     * and the replicas of a master still being recovered stay.
     */
    @Test
    void replicasOfAMasterWhoseRecoveryIsOverAreDroppedAndOnlyThose() throws Exception {
        MediaDriver.Context driverContext = new MediaDriver.Context().aeronDirectoryName(dir.resolve("aeron").toString())
                .threadingMode(ThreadingMode.SHARED).dirDeleteOnStart(true).dirDeleteOnShutdown(true);
        CachedNanoClock clock = new CachedNanoClock();
        clock.update(1_000);
        long recovering = 5L << 32 | 1;
        Map<Long, CompletableFuture<Boolean>> questions = new java.util.concurrent.ConcurrentHashMap<>();
        BackupService.MasterDirectory directory = new BackupService.MasterDirectory() {
            @Override
            public CompletableFuture<Optional<ReplicaStore.MasterReplicas>> ask(long masterId) {
                return CompletableFuture.completedFuture(Optional.empty());
            }

            @Override
            public CompletableFuture<Boolean> recovered(long masterId) {
                CompletableFuture<Boolean> answer = new CompletableFuture<>();
                questions.put(masterId, answer);
                return answer;
            }
        };
        try (MediaDriver driver = MediaDriver.launchEmbedded(driverContext);
             Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
             ReplicaStore store = new ReplicaStore(dir.resolve("buffers"), dir.resolve("backup"), 8);
             BackupService backup = new BackupService(aeron,
                     List.of(new ReplicationStreams.Endpoint("aeron:ipc?alias=agent-test-2", ReplicationStreams.REQUESTS)),
                     store, () -> SELF, id -> id == MASTER, directory, INTERVAL_NS, clock)) {
            assertThat(store.open(MASTER, 1, 1, 1 << 16).ok()).isTrue();
            assertThat(store.open(CRASHED, 1, 1, 1 << 16).ok()).isTrue();
            assertThat(store.open(CRASHED, 2, 1, 1 << 16).ok()).isTrue();
            assertThat(store.open(recovering, 1, 1, 1 << 16).ok()).isTrue();

            at(clock, backup, INTERVAL_NS);
            assertThat(questions).as("asked about the masters that are not UP only").containsOnlyKeys(CRASHED, recovering);
            questions.get(recovering).complete(false);
            at(clock, backup, INTERVAL_NS + 1);
            assertThat(store.list(CRASHED)).as("no answer yet: kept").hasSize(2);
            assertThat(store.list(recovering)).as("still being recovered: kept").hasSize(1);

            questions.get(CRASHED).complete(true);
            assertThat(store.list(CRASHED)).as("applied by the agent's next cycle").hasSize(2);
            at(clock, backup, INTERVAL_NS + 2);
            assertThat(store.list(CRASHED)).as("its recovery is over: dropped").isEmpty();
            assertThat(store.list(recovering)).hasSize(1);
            assertThat(store.list(MASTER)).hasSize(1);
            assertThat(backup.recoveredMastersReplicasDropped()).isEqualTo(2);

            // A failed question keeps everything and is asked again next round.
            questions.clear();
            at(clock, backup, 2 * INTERVAL_NS);
            questions.get(recovering).completeExceptionally(new IllegalStateException("ZooKeeper unreachable"));
            at(clock, backup, 2 * INTERVAL_NS + 1);
            assertThat(store.list(recovering)).hasSize(1);
            questions.clear();
            at(clock, backup, 3 * INTERVAL_NS);
            assertThat(questions).containsOnlyKeys(recovering);
        }
    }

    private CompletableFuture<Optional<ReplicaStore.MasterReplicas>> ask(long masterId) {
        asked.add(masterId);
        CompletableFuture<Optional<ReplicaStore.MasterReplicas>> answer = new CompletableFuture<>();
        pending.add(answer);
        return answer;
    }

    private static void at(CachedNanoClock clock, BackupService backup, long nowNs) {
        clock.update(1_000 + nowNs);
        backup.doWork();
    }
}
