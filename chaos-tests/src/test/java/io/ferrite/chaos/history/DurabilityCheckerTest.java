package io.ferrite.chaos.history;

import static io.ferrite.chaos.history.Op.cas;
import static io.ferrite.chaos.history.Op.incr;
import static io.ferrite.chaos.history.Op.write;
import static io.ferrite.chaos.history.Result.counter;
import static io.ferrite.chaos.history.Result.found;
import static io.ferrite.chaos.history.Result.written;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DurabilityCheckerTest {

    private static FinalState registers(Map<String, Result> r) {
        return new FinalState(r, Map.of());
    }

    private static FinalState counters(Map<String, Long> c) {
        return new FinalState(Map.of(), c);
    }

    private final TestHistory h = new TestHistory()
            .op(0, 0, 5, write("k", "a"), written(1))
            .op(0, 10, 15, write("k", "b"), written(2));

    @Test
    void highestAcknowledgedWriteHeldIsNotLost() {
        final var r = DurabilityChecker.check(h.history, registers(Map.of("k", found("b", 2))),
                registers(Map.of("k", found("b", 2))));
        assertThat(r.lost()).isEmpty();
        assertThat(r.keysChecked()).isEqualTo(2);
    }

    @Test
    void olderValueIsALostWrite() {
        final var r = DurabilityChecker.check(h.history, registers(Map.of("k", found("a", 1))), null);
        assertThat(r.lost()).containsExactly(
                new DurabilityChecker.LostWrite("k", "\"b\" v2", "\"a\" v1", DurabilityChecker.Source.CLUSTER));
    }

    @Test
    void absentIsALostWriteInTheCertifiedState() {
        final var r = DurabilityChecker.check(h.history, registers(Map.of("k", found("b", 2))),
                registers(Map.of("k", Result.absent())));
        assertThat(r.lost()).singleElement().satisfies(l -> {
            assertThat(l.where()).isEqualTo(DurabilityChecker.Source.CERTIFIED);
            assertThat(l.found()).isEqualTo("absent");
        });
    }

    @Test
    void sameVersionOtherValueIsLost() {
        final var r = DurabilityChecker.check(h.history, registers(Map.of("k", found("zz", 2))), null);
        assertThat(r.lost()).hasSize(1);
    }

    @Test
    void laterUnknownWriteExplainsAHigherVersion() {
        h.unknown(1, 20, 30, write("k", "c"));
        final var r = DurabilityChecker.check(h.history, registers(Map.of("k", found("c", 7))), null);
        assertThat(r.lost()).isEmpty();
    }

    @Test
    void unknownWriteDoesNotExplainALowerVersion() {
        h.unknown(1, 20, 30, write("k", "c"));
        final var r = DurabilityChecker.check(h.history, registers(Map.of("k", found("c", 1))), null);
        assertThat(r.lost()).hasSize(1);
    }

    @Test
    void higherVersionWithAValueNobodyWroteIsLost() {
        final var r = DurabilityChecker.check(h.history, registers(Map.of("k", found("ghost", 9))), null);
        assertThat(r.lost()).hasSize(1);
    }

    @Test
    void casAndMultiWriteItemsCountAsAcknowledged() {
        h.op(0, 20, 25, cas("k", 2, "c"), written(3))
                .op(1, 30, 35, Op.multiWrite(List.of("k", "j"), List.of("d", "j1")),
                        Result.multi(List.of(written(4), written(1))));
        final var r = DurabilityChecker.check(h.history,
                registers(Map.of("k", found("c", 3), "j", found("j1", 1))), null);
        assertThat(r.lost()).extracting(DurabilityChecker.LostWrite::key).containsExactly("k");
    }

    @Test
    void keyMissingFromAStateIsNotChecked() {
        final var r = DurabilityChecker.check(h.history, FinalState.empty(), FinalState.empty());
        assertThat(r.lost()).isEmpty();
        assertThat(r.keysChecked()).isZero();
    }

    @Test
    void counterWithinOkAndUnknownSums() {
        final TestHistory c = new TestHistory()
                .op(0, 0, 5, incr("c", 2), counter(2))
                .op(1, 0, 5, incr("c", 3), counter(5))
                .unknown(2, 10, 20, incr("c", 10));
        assertThat(DurabilityChecker.check(c.history, counters(Map.of("c", 5L)), null).lost()).isEmpty();
        assertThat(DurabilityChecker.check(c.history, counters(Map.of("c", 15L)), null).lost()).isEmpty();
        assertThat(DurabilityChecker.check(c.history, counters(Map.of("c", 4L)), null).lost()).singleElement()
                .satisfies(l -> assertThat(l.expected()).isEqualTo("a value in [5, 15]"));
        assertThat(DurabilityChecker.check(c.history, counters(Map.of("c", 16L)), null).lost()).hasSize(1);
    }

    @Test
    void counterBelowAnAcknowledgedValueIsLostEvenWithinTheSum() {
        // the unknown increment was applied first: incr 2 answered 12, so 5 is too low
        final TestHistory c = new TestHistory()
                .unknown(2, 0, 20, incr("c", 10))
                .op(0, 5, 10, incr("c", 2), counter(12));
        assertThat(DurabilityChecker.check(c.history, counters(Map.of("c", 2L)), null).lost()).hasSize(1);
        assertThat(DurabilityChecker.check(c.history, counters(Map.of("c", 12L)), null).lost()).isEmpty();
    }

    @Test
    void nonPositiveDeltaBreaksTheWorkloadRule() {
        final TestHistory c = new TestHistory().op(0, 0, 5, incr("c", -1), counter(-1));
        assertThatThrownBy(() -> DurabilityChecker.check(c.history, counters(Map.of("c", 0L)), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive");
    }
}
