package io.ferrite.chaos.history;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Search cost on histories of a chaos run's size: prints ops/key, states and time. Tagged
 * {@code long}: run with {@code -Dferrite.excludedGroups=}.
 */
@Tag("long")
class LinearizabilityScaleTest {

    @ParameterizedTest
    @CsvSource({"1, 5, 18, 2, 10000, 0.0", "2, 5, 18, 2, 10000, 0.02", "3, 5, 18, 2, 10000, 0.1",
            "4, 10, 18, 2, 10000, 0.05", "5, 5, 4, 1, 10000, 0.02"})
    void tenThousandOperations(long seed, int processes, int registers, int counters, int ops, double infoRate) {
        final SimulatedWorkload w = new SimulatedWorkload(seed, processes, registers, counters, infoRate, 0.02)
                .run(ops);
        final long startNs = System.nanoTime();
        final LinearizabilityReport r = new LinearizabilityChecker().check(w.history);
        final double ms = (System.nanoTime() - startNs) / 1e6;
        final long states = r.keys().stream().mapToLong(KeyVerdict::statesExplored).sum();
        final double maxKeyMs = r.keys().stream().mapToDouble(KeyVerdict::elapsedMs).max().orElse(0);
        System.out.printf("seed %d: %d ops, %d processes, %d keys (%.0f sub-ops/key), info %.2f: %.1f ms total,"
                        + " slowest key %.1f ms, %d states, verdicts %d ok / %d violation / %d unknown%n",
                seed, ops, processes, r.keys().size(),
                r.keys().stream().mapToInt(KeyVerdict::operations).average().orElse(0), infoRate, ms, maxKeyMs,
                states, r.keys().size() - r.violations() - r.unknown(), r.violations(), r.unknown());
        assertThat(r.linearizable()).as(r.explain()).isTrue();
    }

    @ParameterizedTest
    @CsvSource({"6, 0.0", "7, 0.02", "8, 0.1"})
    void tenThousandOperationsWithOneStaleRead(long seed, double infoRate) {
        final SimulatedWorkload w = new SimulatedWorkload(seed, 5, 18, 2, infoRate, 0.02).run(10_000);
        final java.util.List<Event> events = new java.util.ArrayList<>(w.history.events());
        // a read of r0 in the middle returning r0's first acknowledged write, long overwritten
        final KeyOp first = KeyOp.byKey(w.history.operations()).get("r0").stream()
                .filter(k -> k.known() && k.result() instanceof Result.Written).findFirst().orElseThrow();
        final long atNs = events.get(events.size() / 2).timeNs() + 1;
        events.add(new Event(1_000_000, 99, Event.Type.INVOKE, atNs, Op.read("r0"), null, null));
        events.add(new Event(1_000_000, 99, Event.Type.OK, atNs + 1, null,
                Result.found(first.value(), ((Result.Written) first.result()).version()), null));
        final long startNs = System.nanoTime();
        final LinearizabilityReport r = new LinearizabilityChecker().check(History.of(events, java.util.List.of()));
        final KeyVerdict v = r.verdict("r0");
        System.out.printf("seed %d (stale read), info %.2f: %.1f ms total, r0: %s after %d states in %.1f ms%n",
                seed, infoRate, (System.nanoTime() - startNs) / 1e6, v.verdict(), v.statesExplored(), v.elapsedMs());
        assertThat(v.verdict()).isNotEqualTo(KeyVerdict.Verdict.LINEARIZABLE);
    }
}
