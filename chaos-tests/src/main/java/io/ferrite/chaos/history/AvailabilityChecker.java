package io.ferrite.chaos.history;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Measures how long service was lost around each fault.
 *
 * <p>Operations are split per key (a multi-operation counts on each of its keys). A <em>failing</em>
 * operation is one that ended {@code fail} or {@code info}; an {@code ok} one, refusals included,
 * shows the key was served.
 *
 * <ul>
 *   <li><b>Recovery of a fault.</b> Its window runs from its injection to the next fault's
 *       injection (or the end of the history). On each key, take the last failing operation
 *       invoked in the window; the key is served again at the completion of the first {@code ok}
 *       operation on that key invoked after it. The fault's {@code recoveredMs} is the latest such
 *       completion over keys, minus the injection time; 0 if nothing failed in the window;
 *       {@link #NEVER} if some key was never served again. The same completion minus the heal
 *       time (at least 0) gives {@code recoveredFromHealMs}, for faults with a heal.</li>
 *   <li><b>Total unavailable time.</b> The union, over all keys, of the intervals from a failing
 *       operation's invoke to the first completion of an {@code ok} operation on the same key
 *       invoked at or after it (or the end of the history).</li>
 * </ul>
 */
public final class AvailabilityChecker {

    /** A recovery time that never came: the key was not served again before the history ended. */
    public static final long NEVER = -1;

    /**
     * Availability around one fault.
     *
     * @param fault               the fault
     * @param recoveredNs         injection to full service, 0 if nothing failed, or {@link #NEVER}
     * @param recoveredFromHealNs heal to full service (at least 0), or {@link #NEVER} if not healed or
     *                            never recovered
     * @param failingOps          failing per-key operations invoked in the fault's window
     * @param slowestOkNs         the longest an operation invoked in the fault's window took to
     *                            complete ok (calls that waited out a fault instead of failing), 0 if none
     */
    public record FaultAvailability(Fault fault, long recoveredNs, long recoveredFromHealNs, int failingOps,
                                    long slowestOkNs) {
        /**
         * {@link #slowestOkNs()} in milliseconds (rounded up).
         *
         * @return milliseconds
         */
        public long slowestOkMs() {
            return toMs(slowestOkNs);
        }

        /**
         * {@link #recoveredNs()} in milliseconds (rounded up), or {@link #NEVER}.
         *
         * @return milliseconds
         */
        public long recoveredMs() {
            return toMs(recoveredNs);
        }

        /**
         * {@link #recoveredFromHealNs()} in milliseconds (rounded up), or {@link #NEVER}.
         *
         * @return milliseconds
         */
        public long recoveredFromHealMs() {
            return toMs(recoveredFromHealNs);
        }

        private static long toMs(long ns) {
            return ns == NEVER ? NEVER : (ns + 999_999) / 1_000_000;
        }
    }

    /**
     * The availability verdict.
     *
     * @param faults         one entry per fault, in order of injection
     * @param unavailableNs  total time some key was unavailable (union of intervals)
     */
    public record Report(List<FaultAvailability> faults, long unavailableNs) {
        /**
         * Copies.
         *
         * @param faults        per fault
         * @param unavailableNs total unavailable time
         */
        public Report {
            faults = List.copyOf(faults);
        }

        /**
         * The total unavailable time in milliseconds (rounded up).
         *
         * @return milliseconds
         */
        public long unavailableMs() {
            return (unavailableNs + 999_999) / 1_000_000;
        }
    }

    private AvailabilityChecker() {
    }

    /**
     * Checks a history against the faults it recorded.
     *
     * @param history the history
     * @return the report
     */
    public static Report check(History history) {
        return check(history, history.faults());
    }

    /**
     * Checks a history against the given faults (times on the history's clock).
     *
     * @param history the history
     * @param faults  the faults, in any order
     * @return the report
     */
    public static Report check(History history, List<Fault> faults) {
        final List<Operation> operations = history.operations();
        long endNs = 0;
        for (Operation o : operations) {
            endNs = Math.max(endNs, o.completeNs() == Operation.NEVER ? o.invokeNs() : o.completeNs());
        }
        final Map<String, KeyTimeline> keys = timelines(operations);
        final List<Fault> sorted = new ArrayList<>(faults);
        sorted.sort(Comparator.comparingLong(Fault::injectedAtNs));
        final List<FaultAvailability> out = new ArrayList<>();
        for (int i = 0; i < sorted.size(); i++) {
            final Fault f = sorted.get(i);
            final long windowEnd = i + 1 < sorted.size() ? sorted.get(i + 1).injectedAtNs() : Long.MAX_VALUE;
            out.add(recovery(f, windowEnd, keys, slowestOk(operations, f.injectedAtNs(), windowEnd)));
        }
        final List<long[]> intervals = new ArrayList<>();
        for (KeyTimeline t : keys.values()) {
            for (long invoke : t.failingInvokes) {
                final long until = t.firstOkCompletionFrom(invoke);
                intervals.add(new long[] {invoke, until == Long.MAX_VALUE ? endNs : until});
            }
        }
        return new Report(out, unionLength(intervals));
    }

    /** The longest completion time of an ok operation invoked in {@code [from, to)}. */
    private static long slowestOk(List<Operation> operations, long from, long to) {
        long slowest = 0;
        for (Operation o : operations) {
            if (o.status() == Operation.Status.OK && o.invokeNs() >= from && o.invokeNs() < to) {
                slowest = Math.max(slowest, o.completeNs() - o.invokeNs());
            }
        }
        return slowest;
    }

    private static FaultAvailability recovery(Fault f, long windowEnd, Map<String, KeyTimeline> keys, long slowestOk) {
        long servedAt = Long.MIN_VALUE;
        int failing = 0;
        boolean never = false;
        for (KeyTimeline t : keys.values()) {
            long last = Long.MIN_VALUE;
            for (long invoke : t.failingInvokes) {
                if (invoke >= f.injectedAtNs() && invoke < windowEnd) {
                    failing++;
                    last = Math.max(last, invoke);
                }
            }
            if (last == Long.MIN_VALUE) {
                continue;
            }
            final long served = t.firstOkInvokedAfter(last);
            if (served == Long.MAX_VALUE) {
                never = true;
            } else {
                servedAt = Math.max(servedAt, served);
            }
        }
        if (failing == 0) {
            return new FaultAvailability(f, 0, f.healed() ? 0 : NEVER, 0, slowestOk);
        }
        if (never) {
            return new FaultAvailability(f, NEVER, NEVER, failing, slowestOk);
        }
        return new FaultAvailability(f, Math.max(0, servedAt - f.injectedAtNs()),
                f.healed() ? Math.max(0, servedAt - f.healedAtNs()) : NEVER, failing, slowestOk);
    }

    private static Map<String, KeyTimeline> timelines(List<Operation> operations) {
        final Map<String, List<Operation>> byKey = new HashMap<>();
        for (Operation o : operations) {
            for (String k : o.op().keys()) {
                byKey.computeIfAbsent(k, x -> new ArrayList<>()).add(o);
            }
        }
        final Map<String, KeyTimeline> out = new HashMap<>();
        byKey.forEach((k, ops) -> out.put(k, new KeyTimeline(ops)));
        return out;
    }

    /** Length of the union of half-open intervals {@code [from, to)}. */
    static long unionLength(List<long[]> intervals) {
        intervals.sort(Comparator.comparingLong(a -> a[0]));
        long total = 0;
        long curFrom = Long.MIN_VALUE;
        long curTo = Long.MIN_VALUE;
        for (long[] iv : intervals) {
            if (iv[1] <= iv[0]) {
                continue;
            }
            if (iv[0] > curTo) {
                total += curTo - curFrom;
                curFrom = iv[0];
                curTo = iv[1];
            } else {
                curTo = Math.max(curTo, iv[1]);
            }
        }
        return total + (curTo - curFrom);
    }

    /** One key's failing invokes and ok operations, sorted for look-ups. */
    private static final class KeyTimeline {
        final long[] failingInvokes;
        final long[] okInvokes;
        final long[] okCompletes;
        /** suffixMinComplete[i] = the earliest completion among ok operations i.. (by invoke). */
        final long[] suffixMinComplete;

        KeyTimeline(List<Operation> ops) {
            failingInvokes = ops.stream().filter(o -> o.status() != Operation.Status.OK)
                    .mapToLong(Operation::invokeNs).sorted().toArray();
            final List<Operation> ok = ops.stream().filter(o -> o.status() == Operation.Status.OK)
                    .sorted(Comparator.comparingLong(Operation::invokeNs)).toList();
            okInvokes = ok.stream().mapToLong(Operation::invokeNs).toArray();
            okCompletes = ok.stream().mapToLong(Operation::completeNs).toArray();
            suffixMinComplete = new long[ok.size() + 1];
            suffixMinComplete[ok.size()] = Long.MAX_VALUE;
            for (int i = ok.size() - 1; i >= 0; i--) {
                suffixMinComplete[i] = Math.min(okCompletes[i], suffixMinComplete[i + 1]);
            }
        }

        /** Completion of the first ok operation invoked strictly after {@code t}, or MAX_VALUE. */
        long firstOkInvokedAfter(long t) {
            final int i = firstIndexAbove(t);
            return i < okInvokes.length ? okCompletes[i] : Long.MAX_VALUE;
        }

        /** Earliest completion of an ok operation invoked at or after {@code t}, or MAX_VALUE. */
        long firstOkCompletionFrom(long t) {
            return suffixMinComplete[firstIndexAbove(t - 1)];
        }

        private int firstIndexAbove(long t) {
            int i = Arrays.binarySearch(okInvokes, t);
            if (i < 0) {
                return -i - 1;
            }
            while (i < okInvokes.length && okInvokes[i] <= t) {
                i++;
            }
            return i;
        }
    }
}
