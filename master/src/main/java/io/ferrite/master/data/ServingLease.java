package io.ferrite.master.data;

/**
 * Whether this master may serve data now, as the data service asks it before every operation
 * and Enumerate batch: the server's lease (its ZooKeeper session and the leader coordinator's
 * heartbeat acknowledgements), which the server implements. {@link #isValid()} is asked on every
 * call, so it must be cheap: one volatile read and a clock read, no allocation.
 */
public interface ServingLease {
    /** Whether data may be served now. */
    boolean isValid();

    /**
     * Whether a refusal now is temporary (RETRY: the lease is being confirmed again) rather than
     * "these tablets are not served here" (UNKNOWN_TABLET: starting, lost, deposed, closing).
     */
    boolean refusalIsTemporary();

    /** Why data is not served now (for answers and logs); empty while the lease is valid. */
    String refusalReason();

    /** The name of the lease's state, for messages (e.g. {@code SUSPENDED}). */
    String stateName();
}
