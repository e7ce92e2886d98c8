package io.ferrite.server.lease;

import io.ferrite.coordinator.registry.ServerId;
import io.ferrite.master.data.ServingLease;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

/**
 * Whether this server may serve data now. Two conditions, both needed (DESIGN §5, "Fencing"):
 * <ol>
 *   <li>its <b>ZooKeeper state</b> allows it: registered and the session holding its liveness node
 *       connected ({@link Membership} moves the {@link State}s below);</li>
 *   <li>its <b>heartbeat lease</b> runs: the leader coordinator acknowledged a heartbeat sent at
 *       {@code sendNs} granting {@code leaseMs}, and this process's monotonic clock has not reached
 *       {@code sendNs + leaseMs - margin} ({@link #extend}, from the {@link HeartbeatSender}). The
 *       leader declares this server CRASHED only after that lease must have expired by its own
 *       clock, so a server that stops being acknowledged (paused, partitioned, or declared) has
 *       stopped serving before anyone may take its tablets.</li>
 * </ol>
 * The data path checks both with <b>one volatile read</b> and a clock read: {@link #isValid()}
 * compares the clock with {@code validUntilNs}, which holds the heartbeat deadline while the
 * ZooKeeper state is VALID and a time already past otherwise. A process resumed after a pause
 * (SIGSTOP, a long GC) therefore finds its lease expired at its first check, before any of its
 * threads has noticed anything.
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
 * new generation. Being declared CRASHED is final: the server is deposed.
 */
public final class Lease implements ServingLease {
    /** States of the ZooKeeper side of the lease. */
    public enum State {
        /** Not registered yet: nothing to serve. */
        STARTING,
        /**
         * Registered, and the session holding the liveness node is connected: serve while the
         * heartbeat lease runs too.
         */
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

    private final NanoClock clock;
    private volatile State state = State.STARTING;
    private volatile ServerId serverId;
    private volatile boolean deposed;
    /** The data path's one read: serving while {@code clock.nanoTime() - validUntilNs < 0}. */
    private volatile long validUntilNs;
    /** Guarded by this: the heartbeat lease's deadline, once one was granted. */
    private long heartbeatUntilNs;
    private boolean heartbeatGranted;

    /** A lease on this process's monotonic clock. */
    public Lease() {
        this(new SystemNanoClock());
    }

    /** A lease on {@code clock} (tests move it by hand). */
    public Lease(NanoClock clock) {
        this.clock = clock;
        this.validUntilNs = clock.nanoTime() - 1;
    }

    /**
     * Whether data may be served: registered, the ZooKeeper session connected, and the heartbeat
     * lease not expired. One volatile read and a clock read.
     */
    @Override
    public boolean isValid() {
        return clock.nanoTime() - validUntilNs < 0;
    }

    public State state() {
        return state;
    }

    @Override
    public String stateName() {
        return state.name();
    }

    /**
     * Whether a refusal now is temporary (RETRY: the lease is being confirmed again) rather than
     * "these tablets are not served here" (UNKNOWN_TABLET: starting, lost, deposed, closing).
     */
    @Override
    public boolean refusalIsTemporary() {
        State s = state;
        return !deposed && (s == State.SUSPENDED || s == State.VALID);
    }

    /** Why data is not served now (for answers and logs); empty while the lease is valid. */
    @Override
    public String refusalReason() {
        if (deposed) {
            return "this server was declared CRASHED or replaced; its tablets are no longer served here";
        }
        return switch (state) {
            case STARTING -> "this server is not registered in the cluster yet";
            case SUSPENDED -> "this server cannot confirm its ZooKeeper lease right now";
            case LOST -> "this server lost its ZooKeeper lease; its tablets are no longer served here";
            case CLOSED -> "this server is shutting down";
            case VALID -> isValid() ? "" : heartbeatReason();
        };
    }

    private synchronized String heartbeatReason() {
        return heartbeatGranted ? "this server's lease from the coordinator expired "
                + TimeUnit.NANOSECONDS.toMillis(clock.nanoTime() - heartbeatUntilNs)
                + " ms ago (no acknowledged heartbeat); retry"
                : "this server has no lease from the coordinator yet (no acknowledged heartbeat); retry";
    }

    /**
     * Extends the heartbeat lease to {@code untilNs} (the acknowledged heartbeat's send time plus
     * the granted lease, minus this server's margin), unless it already runs longer.
     */
    public synchronized void extend(long untilNs) {
        if (!heartbeatGranted || untilNs - heartbeatUntilNs > 0) {
            heartbeatUntilNs = untilNs;
            heartbeatGranted = true;
            publish();
        }
    }

    /** Nanoseconds the heartbeat lease still runs (negative: expired ago; 0 if never granted). */
    public synchronized long heartbeatRemainingNs() {
        return heartbeatGranted ? heartbeatUntilNs - clock.nanoTime() : 0;
    }

    /** Whether a heartbeat lease was ever granted (the first acknowledgement arrived). */
    public synchronized boolean heartbeatGranted() {
        return heartbeatGranted;
    }

    /** Makes {@link #validUntilNs} agree with the state and the heartbeat lease (under the lock). */
    private void publish() {
        validUntilNs = state == State.VALID && heartbeatGranted && !deposed ? heartbeatUntilNs : clock.nanoTime() - 1;
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

    /** Whether the cluster gave this server's tablets away: it never serves again. */
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
            publish();
        }
    }

    synchronized boolean suspend() {
        if (state == State.VALID) {
            state = State.SUSPENDED;
            publish();
            return true;
        }
        return false;
    }

    synchronized boolean resume() {
        if (state == State.SUSPENDED) {
            state = State.VALID;
            publish();
            return true;
        }
        return false;
    }

    /** LOST → VALID after a rejoin under the same id; false if the lease is not LOST or is deposed. */
    synchronized boolean rejoined() {
        if (state == State.LOST && !deposed) {
            state = State.VALID;
            publish();
            return true;
        }
        return false;
    }

    /** The cluster moved on without this server (or declared it CRASHED): it stays LOST for good. */
    synchronized void depose() {
        deposed = true;
        if (state == State.VALID || state == State.SUSPENDED) {
            state = State.LOST;
        }
        publish();
    }

    synchronized boolean lose() {
        if (state == State.VALID || state == State.SUSPENDED) {
            state = State.LOST;
            publish();
            return true;
        }
        return false;
    }

    /** Ends the lease for good: the server is stopping. */
    public synchronized void close() {
        state = State.CLOSED;
        publish();
    }

    @Override
    public String toString() {
        return "Lease{" + state + (deposed ? " (deposed)" : "") + (serverId == null ? "" : ", server " + serverId)
                + ", heartbeat lease " + (heartbeatGranted() ? TimeUnit.NANOSECONDS.toMillis(heartbeatRemainingNs())
                + " ms left" : "not granted") + "}";
    }
}
