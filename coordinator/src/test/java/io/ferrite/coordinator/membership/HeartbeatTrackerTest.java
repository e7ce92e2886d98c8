package io.ferrite.coordinator.membership;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The failure detector's timing, driven by hand with lease 600 ms, margin 50 ms, suspect after
 * 500 ms, 2 probes of 100 ms: no clock, no thread, no ZooKeeper. {@link #pollAt} moves time on
 * polling every 5 ms, as the detector's agent does; a jump is a stall of the detector itself.
 */
class HeartbeatTrackerTest {
    private static final long SERVER = 7L << 32 | 1;
    private static final String ADDRESS = "127.0.0.1:7000";
    /** An arbitrary origin: nanoTime values are not anchored to zero. */
    private static final long T0 = 1_000_000_000_000L;

    private static final DetectionTimeouts TIMEOUTS = DetectionTimeouts.ofMillis(600, 50, 500, 100, 2);
    private static final long POLL_MS = 5;

    private final HeartbeatTracker tracker = new HeartbeatTracker(TIMEOUTS);
    private long polledMs;
    private final List<String> actions = new ArrayList<>();
    private final HeartbeatTracker.Actions recorder = new HeartbeatTracker.Actions() {
        @Override
        public void probe(long serverId, String address, int attempt, long timeoutNs) {
            actions.add("probe " + attempt);
        }

        @Override
        public void declare(long serverId, String address, String reason) {
            actions.add("declare: " + reason);
        }
    };

    private static long at(long ms) {
        return T0 + TimeUnit.MILLISECONDS.toNanos(ms);
    }

    /** Moves time on to {@code ms}, polling every 5 ms, and returns what was asked for meanwhile. */
    private List<String> pollAt(long ms) {
        actions.clear();
        for (long t = Math.min(polledMs + POLL_MS, ms); t <= ms; t = t == ms ? ms + 1 : Math.min(t + POLL_MS, ms)) {
            tracker.poll(at(t), recorder);
        }
        polledMs = ms;
        return List.copyOf(actions);
    }

    /** One poll at {@code ms} after no poll since the last one: the detector itself stalled. */
    private List<String> stallUntil(long ms) {
        actions.clear();
        tracker.poll(at(ms), recorder);
        polledMs = ms;
        return List.copyOf(actions);
    }

    @BeforeEach
    void leadAndTrack() {
        tracker.lead(at(0));
        tracker.track(SERVER, ADDRESS, at(0));
        tracker.poll(at(0), recorder);
    }

    @Test
    void aSilentServerIsSuspectedThenProbedTwiceThenDeclaredOnceItsLeaseExpired() {
        assertThat(tracker.heartbeat(SERVER, at(0))).isEqualTo(HeartbeatTracker.Verdict.ACK);
        assertThat(pollAt(499)).isEmpty();
        assertThat(pollAt(500)).containsExactly("probe 1");
        assertThat(pollAt(550)).as("probe 1 outstanding").isEmpty();
        tracker.probeAnswered(SERVER, 1, false, at(560));
        assertThat(pollAt(560)).containsExactly("probe 2");
        tracker.probeAnswered(SERVER, 2, false, at(570));
        // Condemned, but not before lease + margin since the last acknowledged heartbeat.
        assertThat(pollAt(570)).isEmpty();
        assertThat(pollAt(649)).isEmpty();
        assertThat(pollAt(650)).singleElement().asString()
                .startsWith("declare: no heartbeat for 500 ms, and 2 probe(s) failed")
                .contains("last acknowledged heartbeat 650 ms ago");
        // From the decision on, no acknowledgement: its lease can no longer be extended.
        assertThat(tracker.heartbeat(SERVER, at(660))).isEqualTo(HeartbeatTracker.Verdict.DECLARING);
        assertThat(pollAt(700)).isEmpty();
        tracker.forget(SERVER); // written
        assertThat(tracker.isTracked(SERVER)).isFalse();
        assertThat(tracker.heartbeat(SERVER, at(800))).isEqualTo(HeartbeatTracker.Verdict.UNKNOWN);
    }

    @Test
    void aHeartbeatArrivingWhileTheProbeIsOutCancelsTheSuspicion() {
        tracker.heartbeat(SERVER, at(0));
        assertThat(pollAt(500)).containsExactly("probe 1");
        assertThat(tracker.heartbeat(SERVER, at(520))).isEqualTo(HeartbeatTracker.Verdict.ACK);
        tracker.probeAnswered(SERVER, 1, false, at(600)); // late and stale: ignored
        assertThat(pollAt(600)).isEmpty();
        assertThat(pollAt(1_019)).isEmpty();
        assertThat(pollAt(1_020)).as("silent again for 500 ms").containsExactly("probe 1");
        assertThat(tracker.heartbeat(SERVER, at(1_030))).isEqualTo(HeartbeatTracker.Verdict.ACK);
        for (long ms = 1_030; ms <= 5_000; ms += 100) {
            assertThat(tracker.heartbeat(SERVER, at(ms))).isEqualTo(HeartbeatTracker.Verdict.ACK);
            assertThat(pollAt(ms + 50)).isEmpty();
        }
    }

    /**
     * Late heartbeats stretch the suspicion: after gaps of 300 ms (a loaded machine), a silence
     * of 899 ms is not suspected, one of 900 ms (three gaps) is; late gaps under the suspicion
     * stretch it further, up to four times the configured one; a gap that crossed the suspicion
     * (a pause that was probed) earns no stretch; and the stretch fades once heartbeats are on
     * time again. Regular heartbeats (100 ms) leave the configured 500 ms as it is.
     */
    @Test
    void lateHeartbeatsStretchTheSuspicionUpToACapAndTheStretchFades() {
        long ms = 0;
        tracker.heartbeat(SERVER, at(ms));
        for (int i = 0; i < 20; i++) {
            ms += 100;
            tracker.heartbeat(SERVER, at(ms));
        }
        assertThat(tracker.suspectAfterMs(SERVER)).as("regular heartbeats").isEqualTo(500);
        for (int i = 0; i < 5; i++) {
            ms += 300;
            tracker.heartbeat(SERVER, at(ms));
        }
        assertThat(tracker.suspectAfterMs(SERVER)).isEqualTo(900);
        pollAt(ms);
        long last = ms;
        assertThat(pollAt(last + 899)).as("silent 899 ms after 300 ms gaps").isEmpty();
        assertThat(pollAt(last + 900)).containsExactly("probe 1");
        tracker.probeAnswered(SERVER, 1, true, at(last + 905));

        ms = last + 910;
        tracker.heartbeat(SERVER, at(ms));
        assertThat(tracker.suspectAfterMs(SERVER)).as("a gap that crossed the suspicion").isBetween(500L, 900L);
        for (int i = 0; i < 3; i++) {
            ms += 800;
            tracker.heartbeat(SERVER, at(ms));
        }
        assertThat(tracker.suspectAfterMs(SERVER)).as("capped at 4 x 500 ms").isEqualTo(2_000);
        ms += 5_000;
        tracker.heartbeat(SERVER, at(ms));
        assertThat(tracker.suspectAfterMs(SERVER)).as("a 5 s pause stretches nothing").isLessThan(2_000);

        // On time again: the stretch halves every 10 s and is gone after about a minute.
        for (int i = 0; i < 700; i++) {
            ms += 100;
            tracker.heartbeat(SERVER, at(ms));
        }
        assertThat(tracker.suspectAfterMs(SERVER)).isEqualTo(500);
    }

    @Test
    void aPauseShorterThanTheSuspicionIsNotEvenProbed() {
        for (long ms = 0; ms <= 1_000; ms += 100) {
            tracker.heartbeat(SERVER, at(ms));
            assertThat(pollAt(ms + 10)).isEmpty();
        }
        // SIGSTOP for 450 ms: the next heartbeat comes 490 ms after the previous one.
        assertThat(pollAt(1_489)).isEmpty();
        assertThat(tracker.heartbeat(SERVER, at(1_490))).isEqualTo(HeartbeatTracker.Verdict.ACK);
        assertThat(pollAt(1_500)).isEmpty();
        assertThat(pollAt(1_989)).isEmpty();
    }

    @Test
    void aPauseLongerThanTheSuspicionButAnsweringTheSecondProbeIsNotDeclared() {
        tracker.heartbeat(SERVER, at(0));
        assertThat(pollAt(500)).containsExactly("probe 1");
        // The paused process does not answer the first probe in time...
        assertThat(pollAt(700)).as("overdue probe counted as failed, the second one sent").containsExactly("probe 2");
        // ... but resumes and answers the second: alive.
        tracker.probeAnswered(SERVER, 2, true, at(720));
        assertThat(pollAt(720)).isEmpty();
        assertThat(pollAt(1_000)).as("its lease may have expired, but it is not condemned").isEmpty();
        assertThat(tracker.heartbeat(SERVER, at(1_010))).isEqualTo(HeartbeatTracker.Verdict.ACK);
        assertThat(pollAt(1_500)).isEmpty();
    }

    @Test
    void aCondemnedServerThatHeartbeatsBeforeTheDeclarationIsAliveAgain() {
        tracker.heartbeat(SERVER, at(0));
        pollAt(500);
        tracker.probeAnswered(SERVER, 1, false, at(501));
        pollAt(501);
        tracker.probeAnswered(SERVER, 2, false, at(502));
        assertThat(pollAt(600)).isEmpty();
        assertThat(tracker.heartbeat(SERVER, at(610))).isEqualTo(HeartbeatTracker.Verdict.ACK);
        assertThat(pollAt(700)).isEmpty();
        assertThat(pollAt(1_109)).isEmpty();
        assertThat(pollAt(1_110)).containsExactly("probe 1");
    }

    @Test
    void aNewLeaderWaitsAFullLeaseFromItsElectionBeforeDeclaringAnyone() {
        HeartbeatTracker fresh = new HeartbeatTracker(TIMEOUTS);
        fresh.lead(at(10_000));
        fresh.track(SERVER, ADDRESS, at(10_000));
        // Its liveness node is gone already: probed at once, and the probes fail at once...
        fresh.livenessLost(SERVER, at(10_000));
        actions.clear();
        fresh.poll(at(10_001), recorder);
        assertThat(actions).containsExactly("probe 1");
        fresh.probeAnswered(SERVER, 1, false, at(10_002));
        fresh.poll(at(10_002), recorder);
        fresh.probeAnswered(SERVER, 2, false, at(10_003));
        actions.clear();
        for (long ms = 10_003; ms < 10_650; ms += POLL_MS) {
            fresh.poll(at(ms), recorder);
        }
        fresh.poll(at(10_649), recorder);
        assertThat(actions).as("an older leader's acknowledgement may still hold a lease").isEmpty();
        fresh.poll(at(10_650), recorder);
        assertThat(actions).singleElement().asString()
                .startsWith("declare: its liveness node disappeared, and 2 probe(s) failed");
    }

    @Test
    void aServerWhoseLivenessNodeWentButAnswersProbesStays() {
        tracker.heartbeat(SERVER, at(100));
        tracker.livenessLost(SERVER, at(150));
        assertThat(pollAt(150)).containsExactly("probe 1");
        tracker.probeAnswered(SERVER, 1, true, at(155));
        assertThat(pollAt(160)).isEmpty();
        assertThat(tracker.heartbeat(SERVER, at(200))).isEqualTo(HeartbeatTracker.Verdict.ACK);
        assertThat(pollAt(699)).isEmpty();
        assertThat(pollAt(700)).as("suspected again only by silence").containsExactly("probe 1");
    }

    @Test
    void aReplacedGenerationIsDeposedAndDeclaredWithoutProbesOnceItsLeaseExpired() {
        tracker.heartbeat(SERVER, at(100));
        tracker.replaced(SERVER, at(120));
        assertThat(tracker.heartbeat(SERVER, at(150))).isEqualTo(HeartbeatTracker.Verdict.DEPOSED);
        assertThat(pollAt(749)).as("its last acknowledged heartbeat was at 100 ms").isEmpty();
        assertThat(pollAt(750)).singleElement().asString()
                .startsWith("declare: a newer generation of index 7 registered");
    }

    @Test
    void aFailedDeclarationIsRetriedAndNeverAcknowledgedMeanwhile() {
        tracker.heartbeat(SERVER, at(0));
        pollAt(500);
        tracker.probeAnswered(SERVER, 1, false, at(500));
        pollAt(500);
        tracker.probeAnswered(SERVER, 2, false, at(500));
        assertThat(pollAt(650)).hasSize(1);
        tracker.declareFailed(SERVER, at(660));
        assertThat(tracker.heartbeat(SERVER, at(670))).isEqualTo(HeartbeatTracker.Verdict.DECLARING);
        assertThat(pollAt(759)).isEmpty();
        assertThat(pollAt(760)).singleElement().asString().endsWith("(declaration retried)");
    }

    @Test
    void anUnansweredProbeCountsAsFailedAfterTwiceItsDeadline() {
        tracker.heartbeat(SERVER, at(0));
        assertThat(pollAt(500)).containsExactly("probe 1");
        assertThat(pollAt(699)).isEmpty();
        assertThat(pollAt(700)).containsExactly("probe 2");
        assertThat(pollAt(900)).as("both overdue: condemned, and the lease expired long ago").singleElement()
                .asString().startsWith("declare:");
    }

    @Test
    void aServerThisLeaderNeverAcknowledgedIsSuspectedOnlyAfterTheJoinGrace() {
        // Tracked at 0 (election, or registration) and silent: slow first calls are forgiven.
        long grace = DetectionTimeouts.MIN_JOIN_GRACE_MS;
        assertThat(pollAt(grace - 1)).isEmpty();
        assertThat(pollAt(grace)).containsExactly("probe 1");
        tracker.probeAnswered(SERVER, 1, false, at(grace + 1));
        assertThat(pollAt(grace + 1)).containsExactly("probe 2");
        tracker.probeAnswered(SERVER, 2, false, at(grace + 2));
        assertThat(pollAt(grace + 2)).singleElement().asString()
                .startsWith("declare: no heartbeat acknowledged in the " + grace + " ms since this leader started tracking it");
    }

    @Test
    void aStallOfTheDetectorItselfIsNotBlamedOnTheServers() {
        tracker.heartbeat(SERVER, at(0));
        assertThat(pollAt(100)).isEmpty();
        // The coordinator is starved for 1.9 s: heartbeats wait unread, nothing polls.
        assertThat(stallUntil(2_000)).as("its silence during the stall does not count").isEmpty();
        assertThat(tracker.stalls()).isEqualTo(1);
        assertThat(tracker.heartbeat(SERVER, at(2_010))).as("the queued heartbeat").isEqualTo(
                HeartbeatTracker.Verdict.ACK);
        assertThat(pollAt(2_509)).isEmpty();
    }

    @Test
    void aProbeThatFailsWhileTheDetectorStalledIsSentAgainNotCounted() {
        tracker.heartbeat(SERVER, at(0));
        assertThat(pollAt(500)).containsExactly("probe 1");
        // Starved right after: the probe's deadline fires before the next poll.
        tracker.probeAnswered(SERVER, 1, false, at(1_500));
        assertThat(stallUntil(1_505)).as("attempt 1 again").containsExactly("probe 1");
        tracker.probeAnswered(SERVER, 1, true, at(1_510));
        assertThat(pollAt(1_600)).isEmpty();
        assertThat(tracker.heartbeat(SERVER, at(1_600))).isEqualTo(HeartbeatTracker.Verdict.ACK);
    }

    @Test
    void nothingIsAcknowledgedOrDeclaredWhenNotLeading() {
        tracker.stepDown();
        assertThat(tracker.heartbeat(SERVER, at(10))).isEqualTo(HeartbeatTracker.Verdict.UNKNOWN);
        tracker.track(SERVER, ADDRESS, at(10));
        assertThat(tracker.isTracked(SERVER)).isFalse();
        assertThat(pollAt(5_000)).isEmpty();
    }
}
