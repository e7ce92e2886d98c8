package io.ferrite.master;

/** Whether this master owns the tablet a key falls in. The server implements it from the tablet map. */
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
