package io.ferrite.chaos.history;

import java.util.List;
import java.util.Map;

/**
 * Checks that a history is linearizable, key by key.
 *
 * <h2>Per key</h2>
 * Linearizability is compositional (Herlihy and Wing's locality; Horn and Kroening's
 * P-compositionality): a history of independent objects is linearizable iff each object's
 * sub-history is. Ferrite's keys are independent registers and counters, so the history is split
 * per key (a multi-operation becomes one sub-operation per key, sharing the call's invoke and
 * completion times, since multi-operations are not atomic across keys) and each key is searched
 * alone. Definitely failed operations ({@code fail}) are dropped. Operations with unknown outcome
 * ({@code info}, or never completed) get completion time +&infin; and an unknown result: they may
 * take effect at any point after their invoke, with whatever result the model gives, or never;
 * reads with unknown outcome constrain nothing and are dropped. A key used both as a register and
 * as a counter is reported as a violation (the workload broke its own rule).
 *
 * <h2>The search (Wing and Gong 1993, with Lowe's 2017 memoization)</h2>
 * The key's invoke and completion events are laid out in one doubly linked list in time order
 * (at equal times invokes first, so operations that touch count as concurrent). The search keeps
 * the model state, the set of operations linearized so far (a bitset) and a stack of the choices
 * made. It walks the list from the front:
 * <ul>
 *   <li>an invoke entry is a candidate to take effect next; if the model accepts it with its
 *       recorded result, and the pair (bitset with it, new state) was never seen, the search
 *       pushes the choice, lifts the operation's invoke and completion entries out of the list and
 *       restarts from the front;</li>
 *   <li>a completion entry means an operation that must take effect before anything invoked after
 *       it could not be placed: the search backtracks, popping the last choice, putting its
 *       entries back (the unlinking is undone in reverse order, so the list is restored exactly)
 *       and continuing with the candidate after it.</li>
 * </ul>
 * The key is linearizable once every operation with a known result is lifted (operations with
 * unknown outcome have no completion entry, so leaving them out is allowed: "never"). It is not
 * linearizable if the search must backtrack with an empty stack.
 *
 * <h2>Why memoization is sound</h2>
 * What the search can still do from a point depends only on which operations are linearized (that
 * fixes the remaining list, hence which operations are candidates and which completions bound
 * them) and on the model state (that fixes which steps the model accepts). So two points with the
 * same bitset and state have the same futures: once one has been explored without success, the
 * other need not be. The cache also bounds the work by the number of distinct (subset, state)
 * pairs reachable, instead of the number of interleavings.
 *
 * <h2>Worst case and budget</h2>
 * Deciding linearizability is NP-complete (Gibbons and Korach). The reachable subsets are those
 * closed under real-time order, so with at most {@code c} operations concurrent at any time the
 * count is about {@code n * 2^c}; operations with unknown outcome never leave the window, so each
 * one that is not eventually overwritten can double the space. Each key therefore has a budget of
 * explored states ({@link #DEFAULT_MAX_STATES_PER_KEY} by default); past it the key's verdict is
 * {@link KeyVerdict.Verdict#UNKNOWN}, counted apart and never reported as linearizable. Memory is
 * one cache entry per explored state (a bitset of {@code n} bits and a model state).
 *
 * <p>For a violation the verdict's explanation prints the longest linearizable prefix found (with
 * the model state after each step), the operation that could not follow it, and the other
 * candidates at that point.
 */
public final class LinearizabilityChecker {

    /** Default budget of explored states per key. */
    public static final long DEFAULT_MAX_STATES_PER_KEY = 1_000_000;

    private final long maxStatesPerKey;

    /** A checker with {@link #DEFAULT_MAX_STATES_PER_KEY}. */
    public LinearizabilityChecker() {
        this(DEFAULT_MAX_STATES_PER_KEY);
    }

    /**
     * A checker with the given per-key budget.
     *
     * @param maxStatesPerKey explored states per key before giving up with "unknown"
     */
    public LinearizabilityChecker(long maxStatesPerKey) {
        if (maxStatesPerKey < 1) {
            throw new IllegalArgumentException("maxStatesPerKey must be positive: " + maxStatesPerKey);
        }
        this.maxStatesPerKey = maxStatesPerKey;
    }

    /**
     * Checks a history.
     *
     * @param history the history
     * @return one verdict per key
     */
    public LinearizabilityReport check(History history) {
        return check(history.operations());
    }

    /**
     * Checks operations; keys are checked in parallel.
     *
     * @param operations the operations
     * @return one verdict per key, sorted by key
     */
    public LinearizabilityReport check(List<Operation> operations) {
        final Map<String, List<KeyOp>> byKey = KeyOp.byKey(operations);
        final List<KeyVerdict> verdicts = byKey.entrySet().parallelStream()
                .map(e -> checkKey(e.getKey(), e.getValue()))
                .toList();
        return new LinearizabilityReport(verdicts);
    }

    private KeyVerdict checkKey(String key, List<KeyOp> ops) {
        final boolean counter = ops.stream().anyMatch(KeyOp::counterLike);
        final boolean register = ops.stream().anyMatch(KeyOp::registerLike);
        if (counter && register) {
            return new KeyVerdict(key, KeyVerdict.Verdict.VIOLATION, ops.size(), 0, 0,
                    "key " + key + ": used both as a register and as a counter");
        }
        return new WglSearch(key, ops, counter ? CounterModel.INSTANCE : RegisterModel.INSTANCE, maxStatesPerKey)
                .run();
    }
}
