package io.ferrite.server.data;

import java.util.concurrent.CompletableFuture;

/**
 * When the log bytes holding a write are safe to acknowledge: buffered on every backup of their
 * segment (the replica manager), or at once without replication.
 */
@FunctionalInterface
public interface Durability {
    /**
     * Completes once segment {@code segmentId} up to {@code length} bytes (and everything
     * before it in the log) is replicated.
     */
    CompletableFuture<Void> whenDurable(long segmentId, int length);
}
