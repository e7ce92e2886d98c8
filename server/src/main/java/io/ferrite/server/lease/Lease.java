package io.ferrite.server.lease;

import io.ferrite.coordinator.registry.ServerId;
import java.util.Optional;

/**
 * Whether this server may serve data now: one volatile read on the data path. The
 * {@link Membership} moves it through its states as the ZooKeeper session that holds the
 * server's liveness node comes and goes.
 *
 * <pre>
 *   STARTING --registered--&gt; VALID --connection lost--&gt; SUSPENDED --reconnected, same session--&gt; VALID
 *                              |                           |
 *                              +------session expired------+--&gt; LOST --registered again--&gt; VALID (new generation)
 *   any --close--&gt; CLOSED
 * </pre>
 */
public final class Lease {
    /** States of the lease. */
    public enum State {
        /** Not registered yet: nothing to serve. */
        STARTING,
        /** Registered, and the session holding the liveness node is connected: serve. */
        VALID,
        /**
         * Disconnected from ZooKeeper: the session may expire at any moment and the tablets be
         * handed to others, so stop serving until it is confirmed again (answer RETRY).
         */
        SUSPENDED,
        /**
         * The session expired: the cluster declares this server crashed. Its tablets are no
         * longer ours (answer UNKNOWN_TABLET) until it has registered again as a new generation.
         */
        LOST,
        /** Shutting down. */
        CLOSED
    }

    private volatile State state = State.STARTING;
    private volatile ServerId serverId;

    /** Whether data may be served: registered and the session is connected. */
    public boolean isValid() {
        return state == State.VALID;
    }

    public State state() {
        return state;
    }

    /** The id of the current registration, while the lease is valid or suspended. */
    public Optional<ServerId> serverId() {
        State s = state;
        return s == State.VALID || s == State.SUSPENDED ? Optional.ofNullable(serverId) : Optional.empty();
    }

    /** The id of the current or most recent registration, if any. */
    public Optional<ServerId> lastServerId() {
        return Optional.ofNullable(serverId);
    }

    synchronized void granted(ServerId id) {
        if (state != State.CLOSED) {
            serverId = id;
            state = State.VALID;
        }
    }

    synchronized boolean suspend() {
        if (state == State.VALID) {
            state = State.SUSPENDED;
            return true;
        }
        return false;
    }

    synchronized boolean resume() {
        if (state == State.SUSPENDED) {
            state = State.VALID;
            return true;
        }
        return false;
    }

    synchronized boolean lose() {
        if (state == State.VALID || state == State.SUSPENDED) {
            state = State.LOST;
            return true;
        }
        return false;
    }

    /** Ends the lease for good: the server is stopping. */
    public synchronized void close() {
        state = State.CLOSED;
    }

    @Override
    public String toString() {
        return "Lease{" + state + (serverId == null ? "" : ", server " + serverId) + "}";
    }
}
