package io.ferrite.chaos.history;

import static io.ferrite.chaos.history.Op.read;
import static io.ferrite.chaos.history.Op.write;
import static io.ferrite.chaos.history.Result.absent;
import static io.ferrite.chaos.history.Result.written;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class AvailabilityCheckerTest {

    private static Fault fault(String kind, long atMs, long healedMs) {
        return new Fault(kind, atMs * 1_000_000, healedMs < 0 ? Fault.NOT_HEALED : healedMs * 1_000_000);
    }

    @Test
    void nothingFailedMeansZero() {
        final TestHistory h = new TestHistory().op(0, 0, 5, read("k"), absent()).op(0, 10, 15, read("k"), absent());
        final var r = AvailabilityChecker.check(h.history, List.of(fault("partition", 2, 8)));
        assertThat(r.faults()).singleElement().satisfies(f -> {
            assertThat(f.recoveredMs()).isZero();
            assertThat(f.recoveredFromHealMs()).isZero();
            assertThat(f.failingOps()).isZero();
        });
        assertThat(r.unavailableNs()).isZero();
    }

    @Test
    void recoveryIsTheFirstOkAfterTheLastFailureMaxOverKeys() {
        final TestHistory h = new TestHistory()
                .unknown(0, 100, 200, write("a", "a1"))
                .failed(1, 110, 111, write("b", "b1"))
                .failed(1, 150, 151, write("b", "b2"))
                .op(0, 210, 220, write("a", "a2"), written(3))   // a served at 220
                .op(1, 160, 300, write("b", "b3"), written(1))   // b served at 300
                .op(1, 310, 320, read("b"), absent());
        final var r = AvailabilityChecker.check(h.history, List.of(fault("kill-master", 90, 250)));
        final var f = r.faults().getFirst();
        assertThat(f.failingOps()).isEqualTo(3);
        assertThat(f.recoveredMs()).isEqualTo(300 - 90);
        assertThat(f.recoveredFromHealMs()).isEqualTo(300 - 250);
        // a: [100, 220); b: [110, 300) and [150, 300) -> union [100, 300)
        assertThat(r.unavailableMs()).isEqualTo(200);
    }

    @Test
    void theSlowestOkCallInAFaultsWindowShowsCallsThatWaitedInsteadOfFailing() {
        final TestHistory h = new TestHistory()
                .op(0, 10, 12, read("a"), absent())                  // before the fault: not counted
                .op(0, 100, 2_600, write("a", "a1"), written(1))    // waited 2.5 s through the fault
                .op(1, 150, 160, read("b"), absent())
                .unknown(1, 170, 9_000, write("b", "b1"))            // not ok: not a latency
                .op(0, 3_000, 3_001, read("a"), Result.found("a1", 1));
        final var r = AvailabilityChecker.check(h.history, List.of(fault("kill-master", 90, 500)));
        final var f = r.faults().getFirst();
        assertThat(f.slowestOkMs()).isEqualTo(2_500);
        assertThat(f.failingOps()).isEqualTo(1);
    }

    @Test
    void eachFaultOnlyCountsFailuresInItsWindow() {
        final TestHistory h = new TestHistory()
                .failed(0, 100, 101, write("a", "a1"))
                .op(0, 110, 120, write("a", "a2"), written(1))
                .failed(0, 500, 501, write("a", "a3"))
                .op(0, 600, 700, write("a", "a4"), written(2));
        final var r = AvailabilityChecker.check(h.history,
                List.of(fault("second", 400, -1), fault("first", 50, 60)));
        assertThat(r.faults()).extracting(f -> f.fault().kind()).containsExactly("first", "second");
        assertThat(r.faults().get(0).recoveredMs()).isEqualTo(70);
        assertThat(r.faults().get(0).recoveredFromHealMs()).isEqualTo(60);
        assertThat(r.faults().get(1).recoveredMs()).isEqualTo(300);
        assertThat(r.faults().get(1).recoveredFromHealMs()).isEqualTo(AvailabilityChecker.NEVER);
        assertThat(r.unavailableMs()).isEqualTo(20 + 200);
    }

    @Test
    void neverRecoveredRunsToTheEndOfTheHistory() {
        final TestHistory h = new TestHistory()
                .op(1, 0, 10, read("b"), absent())
                .unknown(0, 100, 200, write("a", "a1"))
                .op(1, 150, 400, read("b"), absent());
        final var r = AvailabilityChecker.check(h.history, List.of(fault("partition", 50, 80)));
        assertThat(r.faults().getFirst().recoveredMs()).isEqualTo(AvailabilityChecker.NEVER);
        assertThat(r.unavailableMs()).isEqualTo(400 - 100);
    }

    @Test
    void multiOperationFailureCountsOnEachKey() {
        final TestHistory h = new TestHistory()
                .failed(0, 100, 110, Op.multiRead(List.of("a", "b")))
                .op(0, 120, 130, read("a"), absent())
                .op(0, 140, 150, read("b"), absent());
        final var r = AvailabilityChecker.check(h.history, List.of(fault("partition", 90, -1)));
        assertThat(r.faults().getFirst().failingOps()).isEqualTo(2);
        assertThat(r.faults().getFirst().recoveredMs()).isEqualTo(60);
    }

    @Test
    void unionOfIntervals() {
        assertThat(AvailabilityChecker.unionLength(new java.util.ArrayList<>(List.of(
                new long[] {0, 10}, new long[] {5, 15}, new long[] {20, 30}, new long[] {25, 26})))).isEqualTo(25);
        assertThat(AvailabilityChecker.unionLength(new java.util.ArrayList<>())).isZero();
    }
}
