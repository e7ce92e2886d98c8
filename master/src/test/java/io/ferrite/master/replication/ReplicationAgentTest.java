package io.ferrite.master.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.master.EngineContext;
import io.ferrite.master.ObjectManager;
import io.ferrite.master.ObjectResult;
import io.ferrite.master.RejectRules;
import io.ferrite.master.Status;
import io.ferrite.master.TestSeeds;
import io.ferrite.master.log.LogSegment;
import io.ferrite.master.log.MasterLog;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.CachedNanoClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The replication agent driven by hand: its duty cycle is called by the test, its clock moved by
 * the test, and its backups are {@link FakeBackups} whose messages and answers the test loses or
 * delivers. No thread, no sleep: every run with the same seed is the same run.
 */
class ReplicationAgentTest {
    private static final long TABLE = 1;
    private static final long MASTER_ID = 1L << 32;
    private static final long ACK_TIMEOUT_NS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final int CHUNK_BYTES = 256 << 10;

    private final CachedNanoClock clock = new CachedNanoClock();
    private boolean viewTrusted = true;
    private FakeBackups backups;
    private ReplicaManager manager;
    private ReplicationAgent agent;
    private ObjectManager engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
        if (manager != null) {
            manager.close();
        }
    }

    private void start(int factor, long memoryBytes, int segmentBytes, long... backupIds) {
        start(factor, memoryBytes, segmentBytes, c -> c, backupIds);
    }

    private void start(int factor, long memoryBytes, int segmentBytes,
                       java.util.function.UnaryOperator<EngineContext> settings, long... backupIds) {
        clock.update(1_000_000_000L);
        backups = new FakeBackups(backupIds);
        manager = new ReplicaManager(factor, backups, () -> MASTER_ID, backups::live, CHUNK_BYTES,
                Duration.ofNanos(ACK_TIMEOUT_NS), clock).viewTrusted(() -> viewTrusted);
        engine = new ObjectManager(new EngineContext().memoryBytes(memoryBytes).segmentSizeBytes(segmentBytes)
                .maxValueBytes(Math.min(EngineContext.DEFAULT_MAX_VALUE_BYTES, segmentBytes / 4)).cleanerThreads(0).replicationHook(manager).conclude());
        agent = manager.agent(engine.log(), engine.epochs());
    }

    /** The agent's counters, published at its next cycle after the stats interval. */
    private ReplicaManager.Stats stats() {
        clock.advance(ReplicationAgent.STATS_INTERVAL_NS + 1);
        agent.doWork();
        return manager.stats();
    }

    private static byte[] key(int i) {
        return ("key-" + i).getBytes(StandardCharsets.UTF_8);
    }

    /** Runs duty cycles, delivering everything, until nothing more happens (time stands still). */
    private void settle() {
        for (int i = 0; i < 10_000; i++) {
            int work = agent.doWork();
            boolean queued = false;
            for (FakeBackups.FakeBackup b : backups.all()) {
                queued |= !b.inbox.isEmpty();
            }
            backups.deliver(new Random(i), 0, 0);
            if (work == 0 && !queued && agent.doWork() == 0) {
                return;
            }
        }
        throw new AssertionError("replication never settled");
    }

    /** The master's current bytes of a segment, up to {@code length}. */
    private byte[] masterBytes(long segmentId, int length) {
        LogSegment segment = engine.log().segment(segmentId);
        byte[] bytes = new byte[length];
        segment.memory().copyTo(0, bytes, 0, length);
        return bytes;
    }

    /**
     * I1, checked when a write is acknowledged: at least {@code factor} backups hold the segment
     * with a certified prefix covering the write, and what they certify is the master's bytes.
     */
    private void assertCertifiedOnBackups(String context, int factor, long segmentId, int length) {
        int covering = 0;
        for (FakeBackups.FakeBackup b : backups.all()) {
            FakeBackups.Held held = b.replicas.get(segmentId);
            if (held != null && held.certifiedLength >= length) {
                byte[] expected = masterBytes(segmentId, held.certifiedLength);
                assertThat(java.util.Arrays.copyOf(held.bytes, held.certifiedLength))
                        .as(context + "certified bytes of segment " + segmentId + " on backup " + b.identity.serverId())
                        .isEqualTo(expected);
                covering++;
            }
        }
        assertThat(covering).as(context + "backups certifying segment " + segmentId + " up to " + length)
                .isGreaterThanOrEqualTo(factor);
    }

    /**
     * I1 over thousands of writes of mixed sizes (up to 1 MiB, so a backlog spans several
     * appends) while messages and answers are lost at random and time moves past the ack
     * timeout now and then: every acknowledgement is checked against the backups' certified
     * prefixes at the moment it completes.
     */
    @Test
    void everyAcknowledgedWriteLiesInTheCertifiedPrefixOfEveryReplica() {
        long seed = TestSeeds.seed(0x1A11_0001L);
        String context = TestSeeds.describe(seed);
        Random random = new Random(seed);
        start(2, 256L << 20, 4 << 20, 11, 12, 13);
        ObjectResult out = new ObjectResult();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        int acknowledged = 0;
        int writes = (int) TestSeeds.longProperty("ferrite.replication.writes", 3_000);
        for (int i = 0; i < writes; i++) {
            int size = random.nextInt(100) < 2 ? (1 << 20) - random.nextInt(1_000) : random.nextInt(8_000);
            byte[] value = new byte[size];
            random.nextBytes(value);
            Status status = engine.write(TABLE, key(random.nextInt(200)), value, RejectRules.NONE, out);
            while (status == Status.RETRY) {
                settle();
                engine.cleaner().cleanOnce();
                status = engine.write(TABLE, key(random.nextInt(200)), value, RejectRules.NONE, out);
            }
            assertThat(status).as(context + "write " + i).isEqualTo(Status.OK);
            long segmentId = out.appendSegmentId();
            int length = out.appendLength();
            String what = context + "write " + i + " (segment " + segmentId + ", length " + length + "): ";
            pending.add(manager.whenDurable(segmentId, length).thenRun(() ->
                    assertCertifiedOnBackups(what, 2, segmentId, length)));
            // A few cycles with losses; sometimes time passes beyond the ack timeout.
            for (int c = random.nextInt(3); c >= 0; c--) {
                agent.doWork();
                backups.deliver(random, 0.05, 0.1);
            }
            if (random.nextInt(50) == 0) {
                clock.advance(ACK_TIMEOUT_NS + 1);
            }
            acknowledged += drainCompleted(pending, context);
        }
        for (int round = 0; round < 50 && !pending.isEmpty(); round++) {
            clock.advance(ACK_TIMEOUT_NS + 1);
            settle();
            acknowledged += drainCompleted(pending, context);
        }
        assertThat(pending).as(context + "writes never acknowledged; " + agent.describe()).isEmpty();
        assertThat(acknowledged).isEqualTo(writes);
        assertThat(stats().faults()).as(context + "faults").isZero();
    }

    /** Joins the completed futures (an assertion inside one fails the test), keeps the rest. */
    private static int drainCompleted(List<CompletableFuture<Void>> pending, String context) {
        int done = 0;
        for (int i = pending.size() - 1; i >= 0; i--) {
            CompletableFuture<Void> f = pending.get(i);
            if (f.isDone()) {
                f.join();
                pending.remove(i);
                done++;
            }
        }
        return done;
    }

    /** Writes {@code count} objects of {@code size} bytes over keys {@code 0..keys-1}; returns the last result's segment. */
    private long write(int count, int keys, int size, Random random) {
        ObjectResult out = new ObjectResult();
        for (int i = 0; i < count; i++) {
            byte[] value = new byte[size];
            random.nextBytes(value);
            assertThat(engine.write(TABLE, key(i % keys), value, RejectRules.NONE, out)).isEqualTo(Status.OK);
        }
        return out.appendSegmentId();
    }

    /** Compacts a closed segment whose objects are all dead into a copy holding only its header. */
    private LogSegment compactToHeader(long segmentId) {
        MasterLog log = engine.log();
        LogSegment original = log.segment(segmentId);
        LogSegment target = log.newCompactionTarget(original);
        assertThat(target.writer().appendSegmentHeader(log.logId(), segmentId, log.segmentCapacityBytes()))
                .isGreaterThanOrEqualTo(0);
        log.commitCompaction(original, target);
        return target;
    }

    /**
     * The first reproduction: a backup dies after the cleaner compacted a segment it held.
     * Re-replication must send the compacted copy under its own certificate (it used to copy the
     * original length out of the shorter copy, failing every millisecond for good), and writes go on.
     */
    @Test
    void aCompactedSegmentIsReReplicatedFromWhatTheMasterHoldsNow() {
        long seed = TestSeeds.seed(0x1A13_0001L);
        String context = TestSeeds.describe(seed);
        Random random = new Random(seed);
        start(2, 64L << 20, 1 << 20, 11, 12, 13);
        write(400, 50, 4_000, random);          // segment 1 and beyond: keys 0..49
        settle();
        long first = engine.log().segmentIds()[0];
        write(200, 50, 4_000, random);          // overwrite: segment 1's objects are all dead
        settle();
        assertThat(manager.replicated(first)).as(context + agent.describe()).isTrue();
        LogSegment compacted = compactToHeader(first);
        int compactedLength = compacted.lengthBytes();
        // The backup holding segment 1 that sorts first dies.
        long victim = -1;
        for (FakeBackups.FakeBackup b : backups.all()) {
            if (b.replicas.containsKey(first) && (victim < 0 || b.identity.serverId() < victim)) {
                victim = b.identity.serverId();
            }
        }
        backups.backup(victim).connected = false;
        clock.advance(ReplicationAgent.MEMBERSHIP_CHECK_NS + 1);
        settle();
        long copies = 0;
        for (FakeBackups.FakeBackup b : backups.all()) {
            FakeBackups.Held held = b.replicas.get(first);
            if (b.connected && held != null) {
                assertThat(held.closed).as(context + "replica on " + b.identity.serverId()).isTrue();
                if (held.certifiedLength == compactedLength) {
                    assertThat(java.util.Arrays.copyOf(held.bytes, compactedLength)).as(context)
                            .isEqualTo(masterBytes(first, compactedLength));
                }
                copies++;
            }
        }
        assertThat(copies).as(context + "live copies of the compacted segment").isEqualTo(2);
        assertThat(manager.replicated(first)).isTrue();
        assertThat(stats().faults()).as(context + "faults").isZero();
        ObjectResult out = new ObjectResult();
        assertThat(engine.write(TABLE, key(1), new byte[10], RejectRules.NONE, out)).isEqualTo(Status.OK);
        CompletableFuture<Void> durable = manager.whenDurable(out.appendSegmentId(), out.appendLength());
        settle();
        assertThat(durable).as(context + "a write after the backup's loss").isCompleted();
    }

    /**
     * A compaction lands while a replica of that segment is half sent: the replica starts over
     * under a new epoch from the compacted copy, never mixing the two copies' bytes.
     */
    @Test
    void aCompactionDuringReReplicationRestartsTheIncompleteReplica() {
        long seed = TestSeeds.seed(0x1A13_0002L);
        String context = TestSeeds.describe(seed);
        Random random = new Random(seed);
        start(1, 64L << 20, 1 << 20, 11, 12);
        write(400, 50, 4_000, random);
        settle();
        long first = engine.log().segmentIds()[0];
        write(200, 50, 4_000, random);
        settle();
        long holder = backups.backup(11).replicas.containsKey(first) ? 11 : 12;
        long other = holder == 11 ? 12 : 11;
        backups.backup(holder).connected = false;
        clock.advance(ReplicationAgent.MEMBERSHIP_CHECK_NS + 1);
        // One cycle opens the replacement; deliver the open, then one append, and stop there.
        agent.doWork();
        backups.deliver(random, 0, 0);
        agent.doWork();
        agent.doWork();
        FakeBackups.FakeBackup replacement = backups.backup(other);
        // (the replacement may carry other segments too; only this one matters)
        replacement.inbox.pollFirst();
        backups.deliver(random, 0, 0);
        FakeBackups.Held partial = replacement.replicas.get(first);
        assertThat(partial).as(context + "replacement opened").isNotNull();
        assertThat(partial.closed).isFalse();
        long oldEpoch = partial.epoch;
        LogSegment compacted = compactToHeader(first);
        clock.advance(ACK_TIMEOUT_NS + 1);
        settle();
        FakeBackups.Held done = replacement.replicas.get(first);
        assertThat(done.epoch).as(context + "a new epoch for the new copy").isGreaterThan(oldEpoch);
        assertThat(done.closed).isTrue();
        assertThat(done.certifiedLength).isEqualTo(compacted.lengthBytes());
        assertThat(java.util.Arrays.copyOf(done.bytes, done.certifiedLength))
                .isEqualTo(masterBytes(first, compacted.lengthBytes()));
        assertThat(stats().faults()).as(context + "faults").isZero();
    }

    /**
     * I3: an exception while replicating one segment is counted, does not hold up the head, and
     * does not spin: the segment is retried with a backoff, and succeeds once the fault is gone.
     */
    @Test
    void anUnexpectedFaultIsContainedToItsSegmentAndBacksOff() {
        long seed = TestSeeds.seed(0x1A13_0003L);
        String context = TestSeeds.describe(seed);
        Random random = new Random(seed);
        start(1, 64L << 20, 1 << 20, 11, 12);
        write(400, 400, 4_000, random);
        long first = engine.log().segmentIds()[0];
        backups.failOffersOf = segment -> segment == first;
        settle();
        long faults = stats().faults();
        assertThat(faults).as(context + "faults counted").isPositive();
        long offers = backups.offers;
        for (int i = 0; i < 1_000; i++) {
            agent.doWork();
        }
        assertThat(backups.offers - offers).as(context + "no offers while backing off, time standing still").isZero();
        // The head is not held up by the failing segment... but durability of the head waits for
        // every earlier segment (the log digest must name only complete segments), so a write waits.
        backups.failOffersOf = segment -> false;
        clock.advance(ReplicationAgent.MAX_FAULT_BACKOFF_NS + 1);
        settle();
        assertThat(manager.replicated(first)).as(context + "the segment replicated once the fault is gone").isTrue();
        ObjectResult out = new ObjectResult();
        assertThat(engine.write(TABLE, key(1), new byte[10], RejectRules.NONE, out)).isEqualTo(Status.OK);
        CompletableFuture<Void> durable = manager.whenDurable(out.appendSegmentId(), out.appendLength());
        settle();
        assertThat(durable).isCompleted();
    }

    /**
     * I2: the replicas of cleaned segments are freed only once the digest that omits them is
     * durable — on an idle master too (the new head's digest is sent without waiting for a write).
     */
    @Test
    void cleanedSegmentsAreFreedOnlyAfterTheDigestOmittingThemIsDurable() {
        long seed = TestSeeds.seed(0x1A12_0001L);
        String context = TestSeeds.describe(seed);
        Random random = new Random(seed);
        start(2, 16L << 20, 1 << 20, c -> c.logSizeCapFactor(1.0), 11, 12, 13);
        ObjectResult out = new ObjectResult();
        long[] freedIds = null;
        for (int batch = 0; batch < 2_000 && freedIds == null; batch++) {
            for (int i = 0; i < 64; i++) {
                byte[] value = new byte[1_000];
                random.nextBytes(value);
                while (engine.write(TABLE, key(random.nextInt(100)), value, RejectRules.NONE, out) == Status.RETRY) {
                    settle();
                    engine.cleaner().cleanOnce();
                }
            }
            settle();
            long[] before = engine.log().segmentIds();
            long head = engine.log().head().id();
            if (engine.cleaner().cleanOnce()) {
                long[] after = engine.log().segmentIds();
                long[] gone = java.util.Arrays.stream(before).filter(id -> java.util.Arrays.binarySearch(after, id) < 0)
                        .toArray();
                if (gone.length > 0) {
                    freedIds = gone;
                    assertThat(engine.log().head().id()).isNotEqualTo(head);
                } else {
                    settle(); // a compaction
                }
            }
        }
        assertThat(freedIds).as(context + "a combined cleaning pass freed segments").isNotNull();
        // The survivors replicate and complete, the new head opens on its backups (so the old head
        // closes), but the answers to the new head's appends are lost: its digest, the first that
        // omits the freed segments, is not durable.
        long newHead = engine.log().head().id();
        backups.loseAppendAnswersOf = segment -> segment == newHead;
        backups.all().forEach(b -> b.freed.clear());
        for (int i = 0; i < 50; i++) {
            agent.doWork();
            backups.deliver(random, 0, 0);
        }
        for (long id : engine.log().segmentIds()) {
            if (id != newHead) {
                assertThat(manager.replicated(id)).as(context + "closed segment " + id + " complete").isTrue();
            }
        }
        for (FakeBackups.FakeBackup b : backups.all()) {
            assertThat(b.freed).as(context + "frees before the new digest is durable, on " + b.identity.serverId())
                    .isEmpty();
        }
        backups.loseAppendAnswersOf = segment -> false;
        clock.advance(ACK_TIMEOUT_NS + 1);
        settle(); // no write since the pass: the digest goes out on its own
        java.util.Set<Long> freed = new java.util.HashSet<>();
        for (FakeBackups.FakeBackup b : backups.all()) {
            freed.addAll(b.freed);
            for (long id : freedIds) {
                assertThat(b.replicas).as(context + "replica of freed segment " + id).doesNotContainKey(id);
            }
        }
        for (long id : freedIds) {
            assertThat(freed).as(context + "freed once the digest is durable").contains(id);
        }
    }

    /** A lost answer is resent after the ack timeout; a backup silent twice is replaced. */
    @Test
    void lostAnswersAreResentThenASilentBackupIsReplaced() {
        long seed = TestSeeds.seed(0x1A14_0001L);
        String context = TestSeeds.describe(seed);
        Random random = new Random(seed);
        start(1, 64L << 20, 1 << 20, 11, 12);
        ObjectResult out = new ObjectResult();
        assertThat(engine.write(TABLE, key(1), new byte[100], RejectRules.NONE, out)).isEqualTo(Status.OK);
        CompletableFuture<Void> durable = manager.whenDurable(out.appendSegmentId(), out.appendLength());
        agent.doWork();
        backups.deliver(random, 0, 0); // the open is answered
        agent.doWork();
        backups.deliver(random, 0, 1.0); // the append arrives, its answer is lost
        agent.doWork();
        assertThat(durable).isNotDone();
        clock.advance(ACK_TIMEOUT_NS + 1);
        agent.doWork(); // resends
        backups.deliver(random, 0, 0);
        agent.doWork();
        assertThat(durable).as(context + "durable after the resend").isCompleted();
        // Now the holder answers nothing at all: two timeouts and the head moves to the other backup.
        long holder = backups.backup(11).replicas.isEmpty() ? 12 : 11;
        assertThat(engine.write(TABLE, key(2), new byte[100], RejectRules.NONE, out)).isEqualTo(Status.OK);
        CompletableFuture<Void> second = manager.whenDurable(out.appendSegmentId(), out.appendLength());
        for (int timeouts = 0; timeouts < 3; timeouts++) {
            agent.doWork();
            backups.backup(holder).inbox.clear();
            clock.advance(Math.max(ACK_TIMEOUT_NS, ReplicationAgent.MEMBERSHIP_CHECK_NS) + 1);
        }
        settle();
        assertThat(second).as(context + "durable on the other backup").isCompleted();
        assertThat(stats().replicasReplaced()).isPositive();
    }

    /**
     * The readers' cheap check agrees with the writers' wait: true only once the entry and every
     * closed segment are certified everywhere; a head roll or a lost replica makes it false again.
     */
    @Test
    void isDurableIsTrueOnlyForCertifiedBytes() {
        long seed = TestSeeds.seed(0x1A14_0002L);
        String context = TestSeeds.describe(seed);
        Random random = new Random(seed);
        start(2, 64L << 20, 1 << 20, 11, 12, 13);
        ObjectResult out = new ObjectResult();
        assertThat(engine.write(TABLE, key(1), new byte[100], RejectRules.NONE, out)).isEqualTo(Status.OK);
        long first = out.appendSegmentId();
        int firstLength = out.appendLength();
        assertThat(manager.isDurable(first, firstLength)).as(context + "before any answer").isFalse();
        settle();
        assertThat(manager.isDurable(first, firstLength)).as(context + "certified on both backups").isTrue();
        assertThat(engine.write(TABLE, key(2), new byte[100], RejectRules.NONE, out)).isEqualTo(Status.OK);
        agent.doWork(); // sent, not yet answered
        assertThat(manager.isDurable(out.appendSegmentId(), out.appendLength())).as(context + "unanswered").isFalse();
        assertThat(manager.isDurable(first, firstLength)).as(context + "the earlier write still").isTrue();
        settle();
        // Fill the head until it rolls, answering nothing: the old head is closed but not complete.
        long head = engine.log().head().id();
        while (engine.log().head().id() == head) {
            assertThat(engine.write(TABLE, key(3), new byte[4_000], RejectRules.NONE, out)).isEqualTo(Status.OK);
        }
        assertThat(manager.isDurable(first, firstLength)).as(context + "after a roll, before the close is certified")
                .isFalse();
        settle();
        assertThat(manager.isDurable(first, firstLength)).as(context + "the closed segment complete").isTrue();
        // A backup of the old head dies: its bytes are on one backup only until re-replicated.
        long holder = -1;
        for (FakeBackups.FakeBackup b : backups.all()) {
            if (b.replicas.containsKey(first)) {
                holder = b.identity.serverId();
            }
        }
        backups.backup(holder).connected = false;
        clock.advance(ReplicationAgent.MEMBERSHIP_CHECK_NS + 1);
        agent.doWork();
        assertThat(manager.isDurable(first, firstLength)).as(context + "one copy lost").isFalse();
        settle();
        assertThat(manager.isDurable(first, firstLength)).as(context + "re-replicated").isTrue();
    }

    /**
     * While this master's own view is stale (its lease is not valid: ZooKeeper away, or it is
     * rejoining), backups missing from its live set, silent, or refusing it as not in the
     * cluster keep their replicas; once the view is trusted again, everything resumes on the same
     * backups, at the same epochs.
     */
    @Test
    void aStaleViewReplacesNoReplica() {
        long seed = TestSeeds.seed(0x1A15_0001L);
        String context = TestSeeds.describe(seed);
        Random random = new Random(seed);
        start(2, 64L << 20, 1 << 20, 11, 12, 13);
        write(300, 300, 4_000, random);
        settle();
        CompletableFuture<ReplicaManager.Placement> placed = manager.placement();
        agent.doWork();
        java.util.Map<Long, java.util.Set<Long>> before = filterLog(placed.join().replicasBySegment());
        assertThat(before).isNotEmpty();
        viewTrusted = false;
        for (FakeBackups.FakeBackup b : backups.all()) {
            b.connected = false;    // the stale view lists no backup at all
        }
        ObjectResult out = new ObjectResult();
        assertThat(engine.write(TABLE, key(1), new byte[100], RejectRules.NONE, out)).isEqualTo(Status.OK);
        CompletableFuture<Void> durable = manager.whenDurable(out.appendSegmentId(), out.appendLength());
        for (int i = 0; i < 20; i++) {
            clock.advance(ACK_TIMEOUT_NS + 1);
            agent.doWork();
        }
        // The backups come back but still refuse this master for a while (their view lags).
        for (FakeBackups.FakeBackup b : backups.all()) {
            b.connected = true;
            b.refuseMaster = true;
        }
        for (int i = 0; i < 20; i++) {
            clock.advance(ReplicationAgent.MAX_REOPEN_DELAY_NS + 1);
            agent.doWork();
            backups.deliver(random, 0, 0);
        }
        assertThat(stats().replicasReplaced()).as(context + "replicas replaced while the view was stale").isZero();
        viewTrusted = true;
        for (FakeBackups.FakeBackup b : backups.all()) {
            b.refuseMaster = false;
        }
        clock.advance(ReplicationAgent.MAX_REOPEN_DELAY_NS + 1);
        settle();
        assertThat(durable).as(context + "durable once the view is trusted again").isCompleted();
        CompletableFuture<ReplicaManager.Placement> after = manager.placement();
        agent.doWork();
        assertThat(after.join().replicasBySegment()).as(context + "the same backups hold every segment")
                .containsAllEntriesOf(before);
        assertThat(stats().replicasReplaced()).as(context + "replicas replaced").isZero();
    }

    private java.util.Map<Long, java.util.Set<Long>> filterLog(java.util.Map<Long, java.util.Set<Long>> placement) {
        java.util.Map<Long, java.util.Set<Long>> inLog = new java.util.HashMap<>();
        placement.forEach((segment, holders) -> {
            if (engine.log().containsSegment(segment) && engine.log().head().id() != segment) {
                inLog.put(segment, holders);
            }
        });
        return inLog;
    }
}
