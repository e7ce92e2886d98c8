package io.ferrite.chaos.history;

import static io.ferrite.chaos.history.Op.cas;
import static io.ferrite.chaos.history.Op.incr;
import static io.ferrite.chaos.history.Op.read;
import static io.ferrite.chaos.history.Op.write;
import static io.ferrite.chaos.history.Result.absent;
import static io.ferrite.chaos.history.Result.counter;
import static io.ferrite.chaos.history.Result.found;
import static io.ferrite.chaos.history.Result.refusedNotFound;
import static io.ferrite.chaos.history.Result.refusedWrongVersion;
import static io.ferrite.chaos.history.Result.written;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerTest {

    private static KeyVerdict check(TestHistory h, String key) {
        final LinearizabilityReport r = new LinearizabilityChecker().check(h.history);
        final KeyVerdict v = r.verdict(key);
        assertThat(v).isNotNull();
        return v;
    }

    private static void assertLinearizable(TestHistory h, String key) {
        final KeyVerdict v = check(h, key);
        assertThat(v.verdict()).as(v.explanation()).isEqualTo(KeyVerdict.Verdict.LINEARIZABLE);
    }

    private static KeyVerdict assertViolation(TestHistory h, String key) {
        final KeyVerdict v = check(h, key);
        assertThat(v.verdict()).isEqualTo(KeyVerdict.Verdict.VIOLATION);
        System.out.println(v.explanation());
        return v;
    }

    // ---------------------------------------------------------------- linearizable

    @Test
    void concurrentWritesWithOverlappingReadsSeeingTheFirst() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 10, write("k", "a"), written(1))
                .op(1, 0, 10, write("k", "b"), written(2))
                .op(2, 5, 15, read("k"), found("a", 1))
                .op(2, 20, 25, read("k"), found("b", 2));
        assertLinearizable(h, "k");
    }

    @Test
    void concurrentWritesLinearizedInTheOtherOrder() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 10, write("k", "a"), written(2))
                .op(1, 0, 10, write("k", "b"), written(1))
                .op(2, 1, 9, read("k"), found("b", 1))
                .op(3, 2, 12, read("k"), found("a", 2))
                .op(2, 20, 25, read("k"), found("a", 2));
        assertLinearizable(h, "k");
    }

    @Test
    void readConcurrentWithFirstWriteMaySeeAbsent() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 10, write("k", "a"), written(1))
                .op(1, 5, 15, read("k"), absent())
                .op(1, 20, 25, read("k"), found("a", 1));
        assertLinearizable(h, "k");
    }

    @Test
    void casChain() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 10, write("k", "a"), written(1))
                .op(1, 20, 30, cas("k", 1, "b"), written(4))
                .op(2, 40, 50, cas("k", 4, "c"), written(9))
                .op(0, 60, 70, read("k"), found("c", 9));
        assertLinearizable(h, "k");
    }

    @Test
    void refusedCasJustifiedByAnOrder() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 10, write("k", "a"), written(1))
                .op(1, 2, 5, cas("k", 1, "x"), refusedNotFound())
                .op(2, 20, 25, cas("k", 7, "y"), refusedWrongVersion(1))
                .op(2, 30, 35, cas("k", 7, "z"), refusedWrongVersion(0))
                .op(1, 40, 50, read("k"), found("a", 1));
        assertLinearizable(h, "k");
    }

    @Test
    void concurrentCasesOnlyOneWins() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 10, write("k", "a"), written(1))
                .op(1, 20, 30, cas("k", 1, "b"), refusedWrongVersion(2))
                .op(2, 20, 30, cas("k", 1, "c"), written(2))
                .op(0, 40, 50, read("k"), found("c", 2));
        assertLinearizable(h, "k");
    }

    @Test
    void unknownWriteThatHappenedIsPinnedByALaterRead() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 10, write("k", "a"), written(1))
                .unknown(1, 20, 30, write("k", "b"))
                .op(2, 40, 50, read("k"), found("b", 5))
                .op(2, 60, 70, cas("k", 5, "c"), written(6))
                .op(2, 80, 90, read("k"), found("c", 6));
        assertLinearizable(h, "k");
    }

    @Test
    void unknownWriteThatNeverHappened() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 10, write("k", "a"), written(1))
                .unknown(1, 20, 30, write("k", "b"))
                .op(2, 40, 50, read("k"), found("a", 1))
                .op(2, 60, 70, read("k"), found("a", 1));
        assertLinearizable(h, "k");
    }

    @Test
    void unknownWriteThatHappenedLongAfterItsTimeout() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 10, write("k", "a"), written(1))
                .unknown(1, 20, 30, write("k", "b"))
                .op(2, 40, 50, read("k"), found("a", 1))
                .op(2, 60, 70, read("k"), found("b", 2));
        assertLinearizable(h, "k");
    }

    @Test
    void failedWriteIsDropped() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 10, write("k", "a"), written(1))
                .failed(1, 20, 30, write("k", "b"))
                .op(2, 40, 50, read("k"), found("a", 1));
        assertLinearizable(h, "k");
    }

    @Test
    void countersWithConcurrentIncrementsAndAnUnknownOne() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 10, incr("c", 1), counter(3))
                .op(1, 0, 10, incr("c", 2), counter(2))
                .unknown(2, 5, 15, incr("c", 5))
                .op(0, 20, 30, read("c"), counter(3))
                .op(1, 40, 50, read("c"), counter(8))
                .op(1, 60, 70, incr("c", 1), counter(9));
        assertLinearizable(h, "c");
    }

    @Test
    void counterReadAbsentMeansZero() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 10, read("c"), absent())
                .op(0, 20, 30, incr("c", 4), counter(4));
        assertLinearizable(h, "c");
    }

    @Test
    void multiOperationsSplitPerKey() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 10, Op.multiWrite(List.of("a", "b"), List.of("a1", "b1")),
                        Result.multi(List.of(written(1), written(1))))
                .op(1, 20, 30, Op.multiRead(List.of("a", "b")), Result.multi(List.of(found("a1", 1), found("b1", 1))));
        final LinearizabilityReport r = new LinearizabilityChecker().check(h.history);
        assertThat(r.keys()).extracting(KeyVerdict::key).containsExactly("a", "b");
        assertThat(r.linearizable()).isTrue();
    }

    // ---------------------------------------------------------------- violations

    @Test
    void staleReadAfterACompletedWrite() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 5, write("k", "a"), written(1))
                .op(1, 10, 15, write("k", "b"), written(2))
                .op(2, 20, 25, read("k"), found("a", 1));
        final KeyVerdict v = assertViolation(h, "k");
        assertThat(v.explanation()).contains("write \"b\"", "read -> \"a\" v1");
    }

    @Test
    void readOfAValueLaterLostOlderValueReturns() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 5, write("k", "a"), written(1))
                .op(1, 10, 15, write("k", "b"), written(2))
                .op(2, 20, 25, read("k"), found("b", 2))
                .op(2, 30, 35, read("k"), found("a", 1));
        assertViolation(h, "k");
    }

    @Test
    void readOfAValueLaterLostAbsentReturns() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 5, write("k", "a"), written(1))
                .op(2, 10, 15, read("k"), found("a", 1))
                .op(2, 20, 25, read("k"), absent());
        assertViolation(h, "k");
    }

    @Test
    void readOfAnUnknownWriteThenTheOlderValue() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 5, write("k", "a"), written(1))
                .unknown(1, 10, 15, write("k", "b"))
                .op(2, 20, 25, read("k"), found("b", 3))
                .op(2, 30, 35, read("k"), found("a", 1));
        assertViolation(h, "k");
    }

    @Test
    void refusalNotJustifiedByAnyOrder() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 5, write("k", "a"), written(1))
                .op(1, 10, 15, cas("k", 1, "b"), refusedWrongVersion(0));
        assertViolation(h, "k");
    }

    @Test
    void notFoundRefusalAfterACompletedWrite() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 5, write("k", "a"), written(1))
                .op(1, 10, 15, cas("k", 1, "b"), refusedNotFound());
        assertViolation(h, "k");
    }

    @Test
    void versionsGoingBackwards() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 5, write("k", "a"), written(5))
                .op(1, 10, 15, write("k", "b"), written(3));
        assertViolation(h, "k");
    }

    @Test
    void readVersionDisagreesWithWrite() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 5, write("k", "a"), written(5))
                .op(1, 10, 15, read("k"), found("a", 6));
        assertViolation(h, "k");
    }

    @Test
    void counterReadTooLow() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 5, incr("c", 1), counter(1))
                .op(1, 10, 15, incr("c", 1), counter(2))
                .op(2, 20, 25, read("c"), counter(1));
        assertViolation(h, "c");
    }

    @Test
    void keyUsedAsBothKinds() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 5, incr("k", 1), counter(1))
                .op(1, 10, 15, write("k", "b"), written(3));
        assertThat(assertViolation(h, "k").explanation()).contains("both");
    }

    @Test
    void budgetExceededIsUnknownNotLinearizable() {
        final TestHistory h = new TestHistory();
        for (int i = 0; i < 12; i++) {
            h.unknown(i, 0, 100, incr("c", 1L << i));
        }
        h.op(20, 200, 210, read("c"), counter(1L << 13)); // no subset of the increments sums to it
        final LinearizabilityReport r = new LinearizabilityChecker(50).check(h.history);
        assertThat(r.verdict("c").verdict()).isEqualTo(KeyVerdict.Verdict.UNKNOWN);
        assertThat(r.verdict("c").explanation()).contains("search budget exceeded");
        assertThat(r.unknown()).isEqualTo(1);
        assertThat(r.violations()).isZero();
        assertThat(r.linearizable()).isFalse();
    }
}
