package io.ferrite.chaos.history;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

class LinearizabilityPropertiesTest {

    @Property(tries = 200)
    void simulatedHistoriesAreLinearizable(@ForAll long seed, @ForAll @IntRange(min = 1, max = 6) int processes,
                                           @ForAll @IntRange(min = 1, max = 4) int keys,
                                           @ForAll @IntRange(min = 1, max = 300) int operations,
                                           @ForAll @DoubleRange(min = 0, max = 0.3) double infoRate) {
        final SimulatedWorkload w = new SimulatedWorkload(seed, processes, keys, 2, infoRate, 0.05).run(operations);
        final LinearizabilityReport r = new LinearizabilityChecker().check(w.history);
        assertThat(r.linearizable()).as("seed %d:%n%s", seed, r.explain()).isTrue();
    }

    @Property(tries = 200)
    void oneStaleReadAfterACompletedOverwriteIsFlagged(@ForAll long seed,
                                                       @ForAll @IntRange(min = 1, max = 6) int processes,
                                                       @ForAll @IntRange(min = 1, max = 3) int keys,
                                                       @ForAll @IntRange(min = 10, max = 300) int operations,
                                                       @ForAll @DoubleRange(min = 0, max = 0.3) double infoRate) {
        final SimulatedWorkload w = new SimulatedWorkload(seed, processes, keys, 1, infoRate, 0.05).run(operations);
        final List<Written> acked = acknowledgedWrites(w.history.operations());
        // an overwrite: a write that completed, and an acknowledged write of the same key with a lower version
        final Optional<Written[]> pair = acked.stream()
                .flatMap(newer -> acked.stream().filter(older -> older.key.equals(newer.key)
                        && older.version < newer.version).map(older -> new Written[] {older, newer}))
                .min(Comparator.comparingLong(p -> p[1].completeNs));
        Assume.that(pair.isPresent());
        final Written older = pair.get()[0];
        final Written newer = pair.get()[1];
        final History h = History.of(withStaleRead(w.history, newer.completeNs + 1, older), List.of());
        final LinearizabilityReport r = new LinearizabilityChecker().check(h);
        assertThat(r.verdict(older.key).verdict()).as("seed %d", seed).isEqualTo(KeyVerdict.Verdict.VIOLATION);
    }

    private record Written(String key, String value, long version, long completeNs) {
    }

    private static List<Written> acknowledgedWrites(List<Operation> ops) {
        return KeyOp.byKey(ops).values().stream().flatMap(List::stream)
                .filter(k -> k.known() && k.result() instanceof Result.Written)
                .map(k -> new Written(k.key(), k.value(), ((Result.Written) k.result()).version(), k.completeNs()))
                .toList();
    }

    private static List<Event> withStaleRead(History h, long atNs, Written older) {
        final List<Event> events = new java.util.ArrayList<>(h.events());
        final long id = events.stream().mapToLong(Event::id).max().orElse(0) + 1;
        events.add(new Event(id, 99, Event.Type.INVOKE, atNs, Op.read(older.key), null, null));
        events.add(new Event(id, 99, Event.Type.OK, atNs + 1, null, Result.found(older.value, older.version), null));
        return events;
    }
}
