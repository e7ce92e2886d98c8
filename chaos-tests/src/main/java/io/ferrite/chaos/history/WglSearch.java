package io.ferrite.chaos.history;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One run of the Wing-Gong/Lowe search on one key's sub-operations; see
 * {@link LinearizabilityChecker} for the algorithm. Single-threaded, used once.
 */
final class WglSearch {
    /** A call or return event in the doubly linked list the search lifts entries out of. */
    private static final class Entry {
        final int op;
        final boolean call;
        final long timeNs;
        Entry match;
        Entry prev;
        Entry next;

        Entry(int op, boolean call, long timeNs) {
            this.op = op;
            this.call = call;
            this.timeNs = timeNs;
        }
    }

    /** A memoized search state: which operations are linearized, and the model state. */
    private record Memo(long[] bits, Object state, int hash) {
        Memo(long[] bits, Object state) {
            this(bits, state, 31 * Arrays.hashCode(bits) + state.hashCode());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Memo m && m.hash == hash && Arrays.equals(m.bits, bits) && m.state.equals(state);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private final String key;
    private final List<KeyOp> ops;
    private final Model model;
    private final long budget;
    private final Entry head = new Entry(-1, false, Long.MIN_VALUE);

    // the deepest linearizable prefix seen, for the explanation
    private int[] bestPrefix = new int[0];
    private Object bestState;
    private int blockedOp = -1;
    private boolean blockedForBest;

    WglSearch(String key, List<KeyOp> ops, Model model, long budget) {
        this.key = key;
        this.ops = ops;
        this.model = model;
        this.budget = budget;
    }

    KeyVerdict run() {
        final long startNs = System.nanoTime();
        final List<Entry> entries = new ArrayList<>(2 * ops.size());
        int okLeft = 0;
        for (int i = 0; i < ops.size(); i++) {
            final KeyOp o = ops.get(i);
            final Entry call = new Entry(i, true, o.invokeNs());
            entries.add(call);
            if (o.known()) {
                final Entry ret = new Entry(i, false, o.completeNs());
                call.match = ret;
                ret.match = call;
                entries.add(ret);
                okLeft++;
            }
        }
        // time order; at equal times calls first, so touching operations count as concurrent
        entries.sort((a, b) -> a.timeNs != b.timeNs ? Long.compare(a.timeNs, b.timeNs)
                : Boolean.compare(!a.call, !b.call));
        Entry prev = head;
        for (Entry e : entries) {
            prev.next = e;
            e.prev = prev;
            prev = e;
        }

        final long[] bits = new long[(ops.size() + 63) / 64];
        final Set<Memo> cache = new HashSet<>();
        final Entry[] stackCall = new Entry[ops.size()];
        final Object[] stackState = new Object[ops.size()];
        int depth = 0;
        Object state = model.initial();
        bestState = state;
        long explored = 0;
        Entry e = head.next;
        while (okLeft > 0) {
            if (e.call) {
                final Object next = model.step(state, ops.get(e.op));
                if (next != null) {
                    set(bits, e.op);
                    if (cache.add(new Memo(bits.clone(), next))) {
                        if (++explored > budget) {
                            return verdict(KeyVerdict.Verdict.UNKNOWN, explored, startNs,
                                    "unknown: search budget exceeded (" + budget + " states)\n" + explain(false));
                        }
                        stackCall[depth] = e;
                        stackState[depth] = state;
                        depth++;
                        state = next;
                        lift(e);
                        if (e.match != null) {
                            okLeft--;
                        }
                        if (depth > bestPrefix.length) {
                            bestPrefix = new int[depth];
                            for (int i = 0; i < depth; i++) {
                                bestPrefix[i] = stackCall[i].op;
                            }
                            bestState = state;
                            blockedForBest = false;
                        }
                        e = head.next;
                        continue;
                    }
                    clear(bits, e.op);
                }
                e = e.next;
            } else {
                // the earliest completion among operations not yet linearized: something must go first
                if (depth == bestPrefix.length && !blockedForBest) {
                    blockedOp = e.op;
                    blockedForBest = true;
                }
                if (depth == 0) {
                    return verdict(KeyVerdict.Verdict.VIOLATION, explored, startNs, explain(true));
                }
                depth--;
                final Entry call = stackCall[depth];
                state = stackState[depth];
                stackCall[depth] = null;
                stackState[depth] = null;
                clear(bits, call.op);
                unlift(call);
                if (call.match != null) {
                    okLeft++;
                }
                e = call.next;
            }
        }
        return verdict(KeyVerdict.Verdict.LINEARIZABLE, explored, startNs, "");
    }

    private KeyVerdict verdict(KeyVerdict.Verdict v, long explored, long startNs, String explanation) {
        return new KeyVerdict(key, v, ops.size(), explored, (System.nanoTime() - startNs) / 1e6, explanation);
    }

    private static void lift(Entry call) {
        remove(call);
        if (call.match != null) {
            remove(call.match);
        }
    }

    private static void unlift(Entry call) {
        if (call.match != null) {
            restore(call.match);
        }
        restore(call);
    }

    private static void remove(Entry e) {
        e.prev.next = e.next;
        if (e.next != null) {
            e.next.prev = e.prev;
        }
    }

    private static void restore(Entry e) {
        e.prev.next = e;
        if (e.next != null) {
            e.next.prev = e;
        }
    }

    private static void set(long[] bits, int i) {
        bits[i >>> 6] |= 1L << i;
    }

    private static void clear(long[] bits, int i) {
        bits[i >>> 6] &= ~(1L << i);
    }

    /** The longest linearizable prefix found, and the operation that could not follow it. */
    private String explain(boolean violation) {
        final StringBuilder b = new StringBuilder();
        final int known = (int) ops.stream().filter(KeyOp::known).count();
        b.append("key ").append(key).append(violation ? ": not linearizable" : "").append('\n');
        b.append("  longest linearizable prefix found: ").append(bestPrefix.length).append(" of ")
                .append(ops.size()).append(" operations (").append(known).append(" with known results)\n");
        final int shown = 12;
        final int from = Math.max(0, bestPrefix.length - shown);
        if (from > 0) {
            b.append("    ... ").append(from).append(" earlier\n");
        }
        Object s = model.initial();
        for (int i = 0; i < bestPrefix.length; i++) {
            s = model.step(s, ops.get(bestPrefix[i]));
            if (i >= from) {
                b.append("    ").append(ops.get(bestPrefix[i]).describe()).append("   => ").append(model.describe(s))
                        .append('\n');
            }
        }
        b.append("  state after it: ").append(model.describe(bestState)).append('\n');
        if (blockedOp >= 0) {
            final KeyOp blocked = ops.get(blockedOp);
            b.append("  cannot linearize next (completed before any other pending op may go):\n    ")
                    .append(blocked.describe()).append('\n');
            final Set<Integer> inPrefix = new HashSet<>();
            for (int i : bestPrefix) {
                inPrefix.add(i);
            }
            final StringBuilder concurrent = new StringBuilder();
            for (int i = 0; i < ops.size(); i++) {
                final KeyOp o = ops.get(i);
                if (i != blockedOp && !inPrefix.contains(i) && o.invokeNs() <= blocked.completeNs()) {
                    concurrent.append("    ").append(o.describe()).append('\n');
                }
            }
            if (!concurrent.isEmpty()) {
                b.append("  other candidates (invoked before it completed, not in the prefix):\n").append(concurrent);
            }
        }
        return b.toString();
    }
}
