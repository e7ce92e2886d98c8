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
 *                              +------session expired------+--&gt; LOST --rejoined under the same id,
 *                                                                  |     tablets reconciled--&gt; VALID
 *                                                                  +--deposed (the cluster moved on)--&gt; LOST for good
 *   any --close--&gt; CLOSED
 * </pre>
 *
 * <p>Losing ZooKeeper is not a crash (issue 9, I5): the server id, which is also the identity of
 * the master's replicated log, survives SUSPENDED and LOST; only a new process registers as a
 * new generation.
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
         * The session expired: the cluster may declare this server CRASHED, so serve nothing.
         * The server keeps its memory and its id and rejoins under that id as soon as ZooKeeper
         * answers; it serves again once it has checked which of its tablets are still its own.
         * If the cluster gave them away meanwhile ({@link #isDeposed()}) it stays here for good.
         */
        LOST,
        /** Shutting down. */
        CLOSED
    }

    private volatile State state = State.STARTING;
    private volatile ServerId serverId;
    private volatile boolean deposed;

    /** Whether data may be served: registered and the session is connected. */
    public boolean isValid() {
        return state == State.VALID;
    }

    public State state() {
        return state;
    }

    /**
     * This server's id, and its log's identity: from registration on, through lost sessions and
     * rejoins (it never changes within a process); empty before registration and once closed.
     */
    public Optional<ServerId> serverId() {
        State s = state;
        return s == State.VALID || s == State.SUSPENDED || s == State.LOST ? Optional.ofNullable(serverId)
                : Optional.empty();
    }

    /** Whether the cluster gave this server's tablets away while it was out: it never serves again. */
    public boolean isDeposed() {
        return deposed;
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

    /** LOST → VALID after a rejoin under the same id; false if the lease is not LOST or is deposed. */
    synchronized boolean rejoined() {
        if (state == State.LOST && !deposed) {
            state = State.VALID;
            return true;
        }
        return false;
    }

    /** The cluster moved on without this server: it stays LOST for good. */
    synchronized void depose() {
        deposed = true;
        if (state == State.VALID || state == State.SUSPENDED) {
            state = State.LOST;
        }
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
        return "Lease{" + state + (deposed ? " (deposed)" : "") + (serverId == null ? "" : ", server " + serverId) + "}";
    }
}
