package io.ferrite.coordinator.membership;

import java.util.concurrent.CompletableFuture;

/** How the failure detector probes a suspected server. */
@FunctionalInterface
public interface Prober {
    /**
     * Pings the server at {@code address} ({@code ControlService.Ping}) with a deadline.
     *
     * @return completes with the server id it answered with (0 if it has none), or exceptionally
     *         if it did not answer in time; never blocks the caller
     */
    CompletableFuture<Long> ping(String address, long timeoutNs);
}
