package io.ferrite.coordinator.membership;

import java.util.concurrent.TimeUnit;

/**
 * The failure detector's timeouts, in nanoseconds.
 *
 * <pre>
 *   last heartbeat acknowledged (receipt, leader's clock)
 *   |-------- suspectNs --------|-- probe --|-- probe --|
 *                               suspect     attempt 2   all failed: condemned
 *   |----------- leaseNs + marginNs -----------|
 *                                              earliest CRASHED (if condemned)
 * </pre>
 *
 * A server is declared CRASHED at the later of "its probes failed" and "lastHeard + lease +
 * margin": the lease it was granted (counted from its heartbeat's send time, which precedes the
 * leader's receipt) has then expired by the leader's own clock.
 *
 * @param leaseNs          lease granted by each acknowledged heartbeat, from its send time
 * @param marginNs         extra wait of the leader beyond the lease before declaring
 * @param suspectNs        silence after which a server is suspected and probed
 * @param probeTimeoutNs   deadline of each probe (ControlService.Ping)
 * @param probeAttempts    probes that must all fail before a server is condemned
 * @param declareRetryNs   pause before a declaration that failed (ZooKeeper error) is tried again
 * @param joinGraceNs      how long a server this leader has not acknowledged yet (every server right
 *                         after an election, and a newly registered one) may stay silent before it
 *                         is suspected, unless its liveness node goes: a new process's, or a new
 *                         leader's, first calls are slow (class loading, JIT, connections)
 */
public record DetectionTimeouts(long leaseNs, long marginNs, long suspectNs, long probeTimeoutNs, int probeAttempts,
                                long declareRetryNs, long joinGraceNs) {
    /** Default lease: 600 ms (see docs/operations.md for the choice). */
    public static final int DEFAULT_LEASE_MS = 600;
    /** Default extra wait of the leader beyond a lease. */
    public static final int DEFAULT_LEASE_MARGIN_MS = 50;
    /** Default silence before a server is probed. */
    public static final int DEFAULT_SUSPECT_AFTER_MS = 500;
    public static final int DEFAULT_PROBE_TIMEOUT_MS = 200;
    public static final int DEFAULT_PROBE_ATTEMPTS = 2;

    public DetectionTimeouts {
        if (leaseNs <= 0 || marginNs < 0 || suspectNs <= 0 || probeTimeoutNs <= 0 || probeAttempts < 1
                || declareRetryNs <= 0 || joinGraceNs < 0) {
            throw new IllegalArgumentException("bad detection timeouts: lease " + leaseNs + " ns, margin " + marginNs
                    + " ns, suspect " + suspectNs + " ns, probe " + probeTimeoutNs + " ns x " + probeAttempts);
        }
    }

    /**
     * Least grace a server gets for its first heartbeat acknowledged by this leader. 5 s was not
     * enough when seven JVMs start at once on two cores (a process test's cluster): a starting
     * server answered neither heartbeats nor probes for over 9 s, was declared, and the test's
     * cluster was one server short. A server that dies before its first acknowledgement is still
     * found sooner by its ZooKeeper liveness node.
     */
    public static final int MIN_JOIN_GRACE_MS = 15_000;

    /**
     * The timeouts from milliseconds. Declarations that fail are retried after 100 ms; a server
     * gets {@code max(15 s, 4 x suspect)} for its first heartbeat acknowledged by this leader.
     */
    public static DetectionTimeouts ofMillis(long leaseMs, long marginMs, long suspectMs, long probeTimeoutMs,
                                             int probeAttempts) {
        return new DetectionTimeouts(TimeUnit.MILLISECONDS.toNanos(leaseMs), TimeUnit.MILLISECONDS.toNanos(marginMs),
                TimeUnit.MILLISECONDS.toNanos(suspectMs), TimeUnit.MILLISECONDS.toNanos(probeTimeoutMs),
                probeAttempts, TimeUnit.MILLISECONDS.toNanos(100),
                TimeUnit.MILLISECONDS.toNanos(Math.max(MIN_JOIN_GRACE_MS, 4 * suspectMs)));
    }

    /** The defaults: lease 600 ms, margin 50 ms, suspect after 500 ms, 2 probes of 200 ms. */
    public static DetectionTimeouts defaults() {
        return ofMillis(DEFAULT_LEASE_MS, DEFAULT_LEASE_MARGIN_MS, DEFAULT_SUSPECT_AFTER_MS, DEFAULT_PROBE_TIMEOUT_MS,
                DEFAULT_PROBE_ATTEMPTS);
    }

    /** How long after a server's last acknowledged heartbeat it may be declared, at the earliest. */
    public long leaseWaitNs() {
        return leaseNs + marginNs;
    }

    /** The longest a silent server can go undeclared with every probe timing out: the detection timeout. */
    public long detectionNs() {
        return Math.max(suspectNs + probeAttempts * probeTimeoutNs, leaseWaitNs());
    }
}
