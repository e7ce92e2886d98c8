package io.ferrite.chaos.history;

/**
 * A sequential specification of one key, for the linearizability search. States are immutable
 * values with {@code equals}/{@code hashCode}, so the search can memoize them.
 */
interface Model {

    /**
     * The state before any operation.
     *
     * @return the initial state
     */
    Object initial();

    /**
     * Applies {@code op} to {@code state} as if it took effect atomically now.
     *
     * @param state a state
     * @param op    a sub-operation; if its result is unknown, any result is allowed
     * @return the next state, or null if the operation with its recorded result cannot take effect
     *         in this state
     */
    Object step(Object state, KeyOp op);

    /**
     * The state for humans.
     *
     * @param state a state
     * @return text
     */
    String describe(Object state);
}
