package io.ferrite.chaos.history;

import java.util.List;

/**
 * The checkers' verdict on one run, and its JSON rendering:
 *
 * <pre>
 * {"seed":42,"operations":10000,
 *  "faults":[{"kind":"kill-master","atMs":5000,"healedAtMs":null,"recoveredMs":812,"recoveredFromHealMs":null,
 *             "failingOps":17}],
 *  "lostAcknowledgedWrites":0,"linearizabilityViolations":0,"linearizabilityUnknown":0,
 *  "unavailableMsTotal":1620,"keysChecked":20,"lost":[],"violatingKeys":[],"unknownKeys":[]}
 * </pre>
 *
 * <p>{@code null} stands for "never" (not healed, or never recovered).
 *
 * @param seed            the run's seed
 * @param operations      operations in the history
 * @param linearizability per-key linearizability verdicts
 * @param durability      lost acknowledged writes
 * @param availability    recovery per fault and total unavailable time
 */
public record CheckReport(long seed, int operations, LinearizabilityReport linearizability,
                          DurabilityChecker.Report durability, AvailabilityChecker.Report availability) {

    /**
     * Runs every checker on a run, with the faults the history recorded and the default search
     * budget.
     *
     * @param seed      the run's seed
     * @param history   the history, with its faults
     * @param cluster   the final state read from the cluster (null: not checked)
     * @param certified the final state rebuilt from the certified replicas (null: not checked)
     * @return the report
     */
    public static CheckReport check(long seed, History history, FinalState cluster, FinalState certified) {
        return check(seed, history, history.faults(), cluster, certified, new LinearizabilityChecker());
    }

    /**
     * Runs every checker on a run.
     *
     * @param seed      the run's seed
     * @param history   the history
     * @param faults    the faults, on the history's clock
     * @param cluster   the final state read from the cluster (null: not checked)
     * @param certified the final state rebuilt from the certified replicas (null: not checked)
     * @param checker   the linearizability checker (its budget)
     * @return the report
     */
    public static CheckReport check(long seed, History history, List<Fault> faults, FinalState cluster,
                                    FinalState certified, LinearizabilityChecker checker) {
        final List<Operation> ops = history.operations();
        return new CheckReport(seed, ops.size(), checker.check(ops),
                DurabilityChecker.check(history, cluster, certified), AvailabilityChecker.check(history, faults));
    }

    /**
     * Acknowledged writes lost, per key and final state.
     *
     * @return the count
     */
    public int lostAcknowledgedWrites() {
        return durability.lost().size();
    }

    /**
     * Keys found not linearizable.
     *
     * @return the count
     */
    public int linearizabilityViolations() {
        return linearizability.violations();
    }

    /**
     * Keys whose linearizability search exceeded its budget (neither passed nor failed).
     *
     * @return the count
     */
    public int linearizabilityUnknown() {
        return linearizability.unknown();
    }

    /**
     * Total time some key was unavailable.
     *
     * @return milliseconds
     */
    public long unavailableMsTotal() {
        return availability.unavailableMs();
    }

    /**
     * Whether the run passed: nothing lost, no linearizability violation, no unknown key.
     *
     * @return true if passed
     */
    public boolean passed() {
        return lostAcknowledgedWrites() == 0 && linearizabilityViolations() == 0 && linearizabilityUnknown() == 0;
    }

    /**
     * A human explanation of every problem found.
     *
     * @return the text, ending with a one-line summary
     */
    public String explain() {
        final StringBuilder b = new StringBuilder();
        b.append(durability.explain()).append(linearizability.explain());
        for (AvailabilityChecker.FaultAvailability f : availability.faults()) {
            b.append("fault ").append(f.fault().kind()).append(" at ").append(ms(f.fault().injectedAtNs()))
                    .append(" ms: recovered ").append(never(f.recoveredMs())).append(" ms after injection, ")
                    .append(never(f.recoveredFromHealMs())).append(" ms after heal, ").append(f.failingOps())
                    .append(" failing ops, slowest ok call ").append(f.slowestOkMs()).append(" ms\n");
        }
        b.append(passed() ? "PASSED" : "FAILED").append(": seed ").append(seed).append(", ").append(operations)
                .append(" operations, ").append(lostAcknowledgedWrites()).append(" lost, ")
                .append(linearizabilityViolations()).append(" non-linearizable keys, ").append(linearizabilityUnknown())
                .append(" unknown keys, ").append(unavailableMsTotal()).append(" ms unavailable\n");
        return b.toString();
    }

    /**
     * The report as one JSON object (see the class comment).
     *
     * @return the JSON
     */
    public String toJson() {
        final StringBuilder b = new StringBuilder(256);
        final Json.Obj o = new Json.Obj(b).field("seed", seed).field("operations", operations);
        final StringBuilder faults = o.raw("faults").append('[');
        boolean first = true;
        for (AvailabilityChecker.FaultAvailability f : availability.faults()) {
            if (!first) {
                faults.append(',');
            }
            first = false;
            final Json.Obj fo = new Json.Obj(faults).field("kind", f.fault().kind())
                    .field("atMs", ms(f.fault().injectedAtNs()));
            nullable(fo, "healedAtMs", f.fault().healed() ? ms(f.fault().healedAtNs()) : AvailabilityChecker.NEVER);
            nullable(fo, "recoveredMs", f.recoveredMs());
            nullable(fo, "recoveredFromHealMs", f.recoveredFromHealMs());
            fo.field("failingOps", f.failingOps()).field("slowestOkMs", f.slowestOkMs()).end();
        }
        faults.append(']');
        o.field("lostAcknowledgedWrites", lostAcknowledgedWrites())
                .field("linearizabilityViolations", linearizabilityViolations())
                .field("linearizabilityUnknown", linearizabilityUnknown())
                .field("unavailableMsTotal", unavailableMsTotal())
                .field("keysChecked", linearizability.keys().size());
        final StringBuilder lost = o.raw("lost").append('[');
        first = true;
        for (DurabilityChecker.LostWrite l : durability.lost()) {
            if (!first) {
                lost.append(',');
            }
            first = false;
            new Json.Obj(lost).field("key", l.key()).field("expected", l.expected()).field("found", l.found())
                    .field("where", l.where().name().toLowerCase(java.util.Locale.ROOT)).end();
        }
        lost.append(']');
        keyList(o.raw("violatingKeys"), KeyVerdict.Verdict.VIOLATION);
        keyList(o.raw("unknownKeys"), KeyVerdict.Verdict.UNKNOWN);
        o.end();
        return b.toString();
    }

    private void keyList(StringBuilder b, KeyVerdict.Verdict v) {
        b.append('[');
        boolean first = true;
        for (KeyVerdict k : linearizability.keys()) {
            if (k.verdict() == v) {
                Json.quote(first ? b : b.append(','), k.key());
                first = false;
            }
        }
        b.append(']');
    }

    private static void nullable(Json.Obj o, String name, long ms) {
        if (ms == AvailabilityChecker.NEVER) {
            o.raw(name).append("null");
        } else {
            o.field(name, ms);
        }
    }

    private static String never(long ms) {
        return ms == AvailabilityChecker.NEVER ? "never" : Long.toString(ms);
    }

    private static long ms(long ns) {
        return ns / 1_000_000;
    }
}
