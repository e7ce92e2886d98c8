package io.ferrite.client.transport;

import io.ferrite.proto.v1.DataResponse;

import java.util.concurrent.CompletableFuture;

/**
 * One request waiting for its answer: the future the answer completes, and the attempt's
 * deadline so that the sweeper can fail it if the master never answers.
 */
public final class PendingCall extends CompletableFuture<DataResponse> {
    private final long deadlineNs;

    /**
     * Creates a pending call.
     *
     * @param deadlineNs {@link System#nanoTime()} after which it times out
     */
    public PendingCall(long deadlineNs) {
        this.deadlineNs = deadlineNs;
    }

    /**
     * When the attempt times out.
     *
     * @return the deadline, in {@link System#nanoTime()} terms
     */
    public long deadlineNs() {
        return deadlineNs;
    }
}
