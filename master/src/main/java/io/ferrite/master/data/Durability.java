package io.ferrite.master.data;

import java.util.concurrent.CompletableFuture;

/**
 * When the log bytes holding a write are safe to acknowledge: buffered on every backup of their
 * segment (the replica manager), or at once without replication.
 */
public interface Durability {
    /**
     * Completes once segment {@code segmentId} up to {@code length} bytes (and everything
     * before it in the log) is replicated.
     */
    CompletableFuture<Void> whenDurable(long segmentId, int length);

    /**
     * Whether {@link #whenDurable} would complete at once: a cheap check that allocates nothing
     * (false when unsure). Readers use it before returning a value (a read never reveals a value
     * that is not yet durable).
     */
    default boolean isDurable(long segmentId, int length) {
        return false;
    }
}
