package io.ferrite.master;

/**
 * Whether this master owns the tablet a key falls in (and may serve it now). The server
 * implements it from the tablet map and its lease. Mutations ask it under the log's append lock,
 * so an implementation must be cheap, lock-free and must not take that lock; withdrawing
 * ownership and then taking the append lock (as {@link ObjectManager#dropTable} does) is a
 * barrier after which no mutation of the withdrawn keys can land.
 */
@FunctionalInterface
public interface TabletOwnership {
    /**
     * @param tableId the table
     * @param keyHash {@link io.ferrite.proto.KeyHash} of the key (tablets are ranges of it)
     */
    boolean owns(long tableId, long keyHash);

    /** Owns everything: a single master with no coordinator (tests, benchmarks). */
    TabletOwnership ALL = (tableId, keyHash) -> true;
}
