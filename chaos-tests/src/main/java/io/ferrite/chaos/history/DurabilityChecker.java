package io.ferrite.chaos.history;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks that no acknowledged write was lost: compares the history with the final state read
 * from the cluster and the one rebuilt from the certified replicas.
 *
 * <p><b>Registers.</b> For each key, the acknowledged write (a write, CAS or multi-write item that
 * returned a version) with the highest version must be what the final state holds: the same
 * version and value. A higher version is fine only if it holds the value of a write whose outcome
 * was unknown ({@code info}) on that key; values are unique per write, so that write explains it.
 * Anything else (absent, a lower version, the same version with another value, a higher version
 * with a value nobody may have written) is a lost acknowledged write.
 *
 * <p><b>Counters.</b> The workload rule: increments are positive. Then the final value must lie in
 * {@code [max(sum of ok deltas, largest acknowledged value), sum of ok deltas + sum of unknown
 * deltas]}; below is a lost increment, above is an increment applied that nobody may have made
 * (reported the same way). A non-positive delta breaks the rule and is rejected.
 *
 * <p>A key missing from a final state is not checked against it: the certified replicas may not
 * cover every key, and a cluster read may have skipped it.
 */
public final class DurabilityChecker {

    /** Where a final state came from. */
    public enum Source {
        /** Read from the live cluster. */
        CLUSTER,
        /** Rebuilt from the replicas recovery trusts. */
        CERTIFIED
    }

    /**
     * One acknowledged write (or increment) the final state does not account for.
     *
     * @param key      the key
     * @param expected what should be there, for humans
     * @param found    what was there
     * @param where    which final state
     */
    public record LostWrite(String key, String expected, String found, Source where) {
    }

    /**
     * The durability verdict.
     *
     * @param lost        the lost writes, by key and source
     * @param keysChecked (key, source) pairs compared
     */
    public record Report(List<LostWrite> lost, int keysChecked) {
        /**
         * Copies.
         *
         * @param lost        the lost writes
         * @param keysChecked pairs compared
         */
        public Report {
            lost = List.copyOf(lost);
        }

        /**
         * One line per lost write, for humans.
         *
         * @return the text, empty if nothing was lost
         */
        public String explain() {
            final StringBuilder b = new StringBuilder();
            for (LostWrite l : lost) {
                b.append("LOST ").append(l.where()).append(" key ").append(l.key()).append(": expected ")
                        .append(l.expected()).append(", found ").append(l.found()).append('\n');
            }
            return b.toString();
        }
    }

    private DurabilityChecker() {
    }

    /**
     * Checks a history against the final states.
     *
     * @param history   the history
     * @param cluster   the state read from the cluster (null: not checked)
     * @param certified the state rebuilt from the certified replicas (null: not checked)
     * @return the report
     * @throws IllegalArgumentException if an increment's delta is not positive
     */
    public static Report check(History history, FinalState cluster, FinalState certified) {
        final Map<String, Acked> registers = new HashMap<>();
        final Map<String, Set<String>> unknownValues = new HashMap<>();
        final Map<String, Counter> counters = new HashMap<>();
        for (List<KeyOp> ops : KeyOp.byKey(history.operations()).values()) {
            for (KeyOp o : ops) {
                switch (o.kind()) {
                    case WRITE, CAS -> {
                        if (!o.known()) {
                            unknownValues.computeIfAbsent(o.key(), k -> new HashSet<>()).add(o.value());
                        } else if (o.result() instanceof Result.Written(long v)) {
                            final Acked a = registers.get(o.key());
                            if (a == null || v > a.version) {
                                registers.put(o.key(), new Acked(o.value(), v));
                            }
                        }
                    }
                    case INCR -> {
                        if (o.delta() <= 0) {
                            throw new IllegalArgumentException("counter " + o.key() + ": delta " + o.delta()
                                    + " breaks the workload rule (increments are positive)");
                        }
                        final Counter c = counters.computeIfAbsent(o.key(), k -> new Counter());
                        if (o.known()) {
                            c.okSum += o.delta();
                            c.observed = Math.max(c.observed, ((Result.CounterValue) o.result()).value());
                        } else {
                            c.unknownSum += o.delta();
                        }
                    }
                    case READ -> {
                        if (o.result() instanceof Result.CounterValue(long v)) {
                            counters.computeIfAbsent(o.key(), k -> new Counter()).observed =
                                    Math.max(counters.get(o.key()).observed, v);
                        }
                    }
                }
            }
        }
        final List<LostWrite> lost = new ArrayList<>();
        int checked = 0;
        for (Source source : Source.values()) {
            final FinalState state = source == Source.CLUSTER ? cluster : certified;
            if (state == null) {
                continue;
            }
            for (Map.Entry<String, Acked> e : registers.entrySet()) {
                final Result found = state.registers().get(e.getKey());
                if (found != null) {
                    checked++;
                    checkRegister(e.getKey(), e.getValue(), found,
                            unknownValues.getOrDefault(e.getKey(), Set.of()), source, lost);
                }
            }
            for (Map.Entry<String, Counter> e : counters.entrySet()) {
                final Long found = state.counters().get(e.getKey());
                if (found != null) {
                    checked++;
                    checkCounter(e.getKey(), e.getValue(), found, source, lost);
                }
            }
        }
        lost.sort(java.util.Comparator.comparing(LostWrite::key).thenComparing(LostWrite::where));
        return new Report(lost, checked);
    }

    private static void checkRegister(String key, Acked acked, Result found, Set<String> unknownValues,
                                      Source source, List<LostWrite> lost) {
        final boolean explained = found instanceof Result.Found(String value, long version)
                && (version == acked.version && value.equals(acked.value)
                || version > acked.version && unknownValues.contains(value));
        if (!explained) {
            lost.add(new LostWrite(key, "\"" + acked.value + "\" v" + acked.version
                    + (unknownValues.isEmpty() ? "" : " or a later unknown-outcome write"),
                    KeyOp.describe(found), source));
        }
    }

    private static void checkCounter(String key, Counter c, long found, Source source, List<LostWrite> lost) {
        final long low = Math.max(c.okSum, c.observed);
        final long high = c.okSum + c.unknownSum;
        if (found < low || found > high) {
            lost.add(new LostWrite(key, "a value in [" + low + ", " + high + "]", Long.toString(found), source));
        }
    }

    private record Acked(String value, long version) {
    }

    private static final class Counter {
        long okSum;
        long unknownSum;
        long observed;
    }
}
