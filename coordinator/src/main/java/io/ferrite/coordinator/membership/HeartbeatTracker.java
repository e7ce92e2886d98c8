package io.ferrite.coordinator.membership;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * The failure detector's timing logic, with no clock, thread or I/O of its own: every method takes
 * {@code nowNs} from the caller's (injected) clock, and what must be done is handed to
 * {@link Actions} from {@link #poll}. One owner at a time: {@link FailureDetector} calls it under
 * its lock; tests call it directly with a hand-moved clock.
 *
 * <p>Per tracked server (every UP server while this coordinator leads):
 * <pre>
 *   ALIVE --no acknowledged heartbeat for suspectNs, or liveness node gone--&gt; SUSPECT (probe 1)
 *   SUSPECT --probe answered by the server--&gt; ALIVE          (a heartbeat does the same)
 *   SUSPECT --probe failed or timed out--&gt; probe 2 ... --all failed--&gt; CONDEMNED
 *   CONDEMNED --heartbeat--&gt; ALIVE
 *   CONDEMNED --lastHeard + lease + margin reached--&gt; DECLARING (write CRASHED; no more acks)
 *   DECLARING --record is not UP any more--&gt; forgotten        (failed write: retried, never back)
 *   any --a newer generation registered--&gt; CONDEMNED, heartbeats answered "deposed"
 * </pre>
 *
 * <p><b>The lease rule.</b> {@code lastHeard} is the receipt time of the last heartbeat this
 * leader acknowledged (or the time it started tracking the server: its election, or the server's
 * registration), and a server's lease runs from the <i>send</i> time of its heartbeat, which
 * precedes that receipt. So once {@code now - lastHeard >= lease + margin} the server's lease has
 * expired by the leader's clock, whatever the server does; and from DECLARING on, nothing extends
 * it (heartbeats are not acknowledged). A new leader starts every server at its election time,
 * so it waits a full lease and margin before declaring anyone. Probe answers prove the server
 * alive but grant no lease, so they move the next suspicion, not {@code lastHeard}.
 *
 * <p><b>The detector's own stalls.</b> When this process is starved (a loaded machine, a GC
 * pause), heartbeats wait unread and probe answers unprocessed, so every server looks silent.
 * A gap between two polls longer than {@link #STALL_NS} is taken as the detector's own stall:
 * every pending suspicion moves by the gap, and a probe that failed while a stall overlapped it
 * is sent again rather than counted. This only ever delays a declaration; the lease rule above is
 * measured in real time and is untouched.
 */
public final class HeartbeatTracker {
    /** What the leader answers a heartbeat. */
    public enum Verdict {
        /** Recorded: acknowledge (the server's lease runs from its send time). */
        ACK,
        /** Not tracked (not leading, or the server's record is not known yet): no lease. */
        UNKNOWN,
        /** The server is being declared CRASHED: no lease, ever again. */
        DECLARING,
        /** A newer generation of the server registered: it must never serve under this id again. */
        DEPOSED
    }

    /** What {@link #poll} asks the caller to do. */
    public interface Actions {
        /**
         * Probe the server (ControlService.Ping with a deadline of {@code timeoutNs}) and report with
         * {@link #probeAnswered}.
         */
        void probe(long serverId, String address, int attempt, long timeoutNs);

        /**
         * Write CRASHED to the server's record (compare-and-set from UP), then call
         * {@link #forget} (done, or the record is not UP) or {@link #declareFailed} (try again).
         */
        void declare(long serverId, String address, String reason);
    }

    private enum Phase { ALIVE, SUSPECT, CONDEMNED, DECLARING }

    private static final class Server {
        final long id;
        String address;
        long lastHeardNs;
        long suspectAtNs;
        Phase phase = Phase.ALIVE;
        boolean suspectNow;
        String suspicion = "";
        int attempt;
        boolean probeOutstanding;
        long probeSentNs;
        long probeDeadlineNs;
        boolean replaced;
        String condemnation = "";
        boolean declarePending;
        long declareAtNs;
        /** Not acknowledged by this leader yet: silence counts only after the join grace. */
        boolean joining;
        /** The longest recent gap between its heartbeats, decaying with a half-life of {@link #GAP_HALF_LIFE_NS}. */
        long recentGapNs;

        Server(long id, String address) {
            this.id = id;
            this.address = address;
        }
    }

    /**
     * Suspicion waits for at least this many times a server's longest recent heartbeat gap
     * (among gaps that stayed under the suspicion): a server whose heartbeats arrive late because
     * its machine is loaded is not suspected on the first longer gap, while an idle server's gaps
     * (the heartbeat interval) leave the configured suspicion as it is. Found by a 2 GB recovery
     * on two cores, where the load got live recovery masters declared CRASHED.
     */
    static final int GAP_MULTIPLE = 3;
    /** How much longer than the configured suspicion late heartbeats can make it, at most. */
    static final int MAX_SUSPECT_STRETCH = 4;
    /** The recent-gap memory halves every this long. */
    static final long GAP_HALF_LIFE_NS = TimeUnit.SECONDS.toNanos(10);

    /** A gap between polls longer than this is the detector's own stall (it polls every few ms). */
    public static final long STALL_NS = TimeUnit.MILLISECONDS.toNanos(100);

    private final DetectionTimeouts timeouts;
    private final Long2ObjectHashMap<Server> servers = new Long2ObjectHashMap<>();
    private final List<Server> scratch = new ArrayList<>();
    private boolean leading;
    private long leaderSinceNs;
    private boolean polled;
    private long lastPollNs;
    /** When the latest stall of the detector ended (probes sent before it are not trusted). */
    private long lastStallEndNs;
    private long stalls;

    public HeartbeatTracker(DetectionTimeouts timeouts) {
        this.timeouts = timeouts;
    }

    public DetectionTimeouts timeouts() {
        return timeouts;
    }

    /** This coordinator became leader (its epoch is written): starts with no history. */
    public void lead(long nowNs) {
        leading = true;
        leaderSinceNs = nowNs;
        lastStallEndNs = nowNs;
        polled = false;
        servers.clear();
    }

    /** This coordinator is no longer leader: forgets everything. */
    public void stepDown() {
        leading = false;
        servers.clear();
    }

    public boolean isLeading() {
        return leading;
    }

    /** When this coordinator became leader (its clock). */
    public long leaderSinceNs() {
        return leaderSinceNs;
    }

    /**
     * Starts tracking a server whose record ZooKeeper shows UP (read directly, not from a cache
     * that may lag); known servers only get their address updated. Its silence counts from now,
     * and until this leader acknowledges one of its heartbeats it is suspected only after the
     * join grace (a new process's, or a new leader's, first calls are slow), or at once if its
     * liveness node goes. Either way it is declared no earlier than lease + margin from now.
     */
    public void track(long serverId, String address, long nowNs) {
        if (!leading) {
            return;
        }
        Server s = servers.get(serverId);
        if (s != null) {
            s.address = address;
            return;
        }
        s = new Server(serverId, address);
        s.lastHeardNs = Math.max(nowNs, leaderSinceNs);
        s.joining = true;
        s.suspectAtNs = s.lastHeardNs + Math.max(timeouts.suspectNs(), timeouts.joinGraceNs());
        servers.put(serverId, s);
    }

    /** Stops tracking a server (its record is not UP any more, or it was declared). */
    public void forget(long serverId) {
        servers.remove(serverId);
    }

    public boolean isTracked(long serverId) {
        return servers.containsKey(serverId);
    }

    /** The tracked server ids (tests, metrics). */
    public long[] tracked() {
        long[] ids = new long[servers.size()];
        int i = 0;
        for (Server s : servers.values()) {
            ids[i++] = s.id;
        }
        return ids;
    }

    /**
     * A newer generation of this server's index registered: the old process is gone or must go.
     * Its heartbeats are answered {@link Verdict#DEPOSED}; it is declared once its lease expired.
     */
    public void replaced(long serverId, long nowNs) {
        Server s = servers.get(serverId);
        if (s == null || s.replaced) {
            return;
        }
        s.replaced = true;
        if (s.phase != Phase.DECLARING) {
            s.phase = Phase.CONDEMNED;
            s.condemnation = "a newer generation of index " + (serverId >>> 32) + " registered";
        }
    }

    /** The server's ZooKeeper liveness node disappeared: probe it now (a second signal, not a verdict). */
    public void livenessLost(long serverId, long nowNs) {
        Server s = servers.get(serverId);
        if (s != null && s.phase == Phase.ALIVE) {
            s.suspectNow = true;
            s.suspicion = "its liveness node disappeared";
        }
    }

    /**
     * A heartbeat arrived now. Acknowledged ({@link Verdict#ACK}) unless the server is unknown,
     * replaced or being declared; an acknowledged one cancels any suspicion and probing.
     */
    public Verdict heartbeat(long serverId, long nowNs) {
        Server s = leading ? servers.get(serverId) : null;
        if (s == null) {
            return Verdict.UNKNOWN;
        }
        if (s.replaced) {
            return Verdict.DEPOSED;
        }
        if (s.phase == Phase.DECLARING) {
            return Verdict.DECLARING;
        }
        if (!s.joining && nowNs - s.lastHeardNs > 0) {
            // Only gaps that stayed under the suspicion measure the load: one that crossed it (a
            // pause long enough to be probed) earns no leniency for the next one.
            long gapNs = nowNs - s.lastHeardNs;
            long decayed = (long) (s.recentGapNs * Math.pow(0.5, (double) gapNs / GAP_HALF_LIFE_NS));
            s.recentGapNs = gapNs < suspectAfterNs(s) ? Math.max(gapNs, decayed) : decayed;
        }
        s.lastHeardNs = Math.max(s.lastHeardNs, nowNs);
        s.suspectAtNs = s.lastHeardNs + suspectAfterNs(s);
        s.joining = false;
        s.phase = Phase.ALIVE;
        s.suspectNow = false;
        s.attempt = 0;
        s.probeOutstanding = false;
        return Verdict.ACK;
    }

    /**
     * A probe's outcome. {@code alive}: the server answered as itself (its id). Outcomes of an
     * earlier attempt, or for a server no longer suspected, are ignored.
     */
    public void probeAnswered(long serverId, int attempt, boolean alive, long nowNs) {
        Server s = servers.get(serverId);
        if (s == null || s.phase != Phase.SUSPECT || attempt != s.attempt || !s.probeOutstanding) {
            return;
        }
        s.probeOutstanding = false;
        if (alive) {
            s.phase = Phase.ALIVE;
            s.attempt = 0;
            s.suspectAtNs = nowNs + suspectAfterNs(s);
        } else if (s.probeSentNs - lastStallEndNs < 0 || nowNs - lastPollNs > STALL_NS) {
            s.attempt--; // the detector stalled while it was out: inconclusive, sent again
        } else {
            probeFailed(s);
        }
    }

    private void probeFailed(Server s) {
        if (s.attempt >= timeouts.probeAttempts()) {
            s.phase = Phase.CONDEMNED;
            s.condemnation = s.suspicion + ", and " + s.attempt + " probe(s) failed";
        }
        // Else the next attempt is sent by the next poll.
    }

    /** The declaration could not be written (ZooKeeper error): try again later, still without acks. */
    public void declareFailed(long serverId, long nowNs) {
        Server s = servers.get(serverId);
        if (s != null && s.phase == Phase.DECLARING) {
            s.declarePending = true;
            s.declareAtNs = nowNs + timeouts.declareRetryNs();
        }
    }

    /**
     * Moves every tracked server on to {@code nowNs}: suspects silent ones, sends probes (through
     * {@code actions}), treats an overdue probe as failed, and declares condemned ones whose lease
     * must have expired.
     *
     * @return how many actions were asked for
     */
    public int poll(long nowNs, Actions actions) {
        if (!leading) {
            return 0;
        }
        long gapNs = nowNs - lastPollNs;
        lastPollNs = nowNs;
        if (polled && gapNs > STALL_NS) {
            stalled(nowNs, gapNs);
        }
        polled = true;
        scratch.clear();
        scratch.addAll(servers.values());
        int work = 0;
        for (Server s : scratch) {
            work += step(s, nowNs, actions);
        }
        scratch.clear();
        return work;
    }

    /** The detector did not run for {@code gapNs}: nobody's silence counts against them for that time. */
    private void stalled(long nowNs, long gapNs) {
        stalls++;
        lastStallEndNs = nowNs;
        for (Server s : servers.values()) {
            s.suspectAtNs += gapNs;
            if (s.probeOutstanding) {
                s.probeDeadlineNs += gapNs;
            }
        }
    }

    /** How many stalls of its own the detector has discounted (metrics, tests). */
    public long stalls() {
        return stalls;
    }

    private int step(Server s, long nowNs, Actions actions) {
        switch (s.phase) {
            case ALIVE -> {
                if (s.suspectNow || nowNs - s.suspectAtNs >= 0) {
                    if (!s.suspectNow) {
                        s.suspicion = s.joining
                                ? "no heartbeat acknowledged in the " + millis(nowNs - s.lastHeardNs)
                                        + " ms since this leader started tracking it"
                                : "no heartbeat for " + millis(nowNs - s.lastHeardNs) + " ms";
                    }
                    s.suspectNow = false;
                    s.phase = Phase.SUSPECT;
                    s.attempt = 0;
                    return sendProbe(s, nowNs, actions);
                }
                return 0;
            }
            case SUSPECT -> {
                if (s.probeOutstanding) {
                    // The probe's own deadline should have ended it; this is a guard.
                    if (nowNs - s.probeDeadlineNs < timeouts.probeTimeoutNs()) {
                        return 0;
                    }
                    s.probeOutstanding = false;
                    if (s.probeSentNs - lastStallEndNs < 0) {
                        s.attempt--;
                        return sendProbe(s, nowNs, actions);
                    }
                    probeFailed(s);
                    if (s.phase == Phase.CONDEMNED) {
                        return step(s, nowNs, actions);
                    }
                }
                return sendProbe(s, nowNs, actions);
            }
            case CONDEMNED -> {
                if (nowNs - s.lastHeardNs >= timeouts.leaseWaitNs()) {
                    s.phase = Phase.DECLARING;
                    s.declarePending = false;
                    actions.declare(s.id, s.address, s.condemnation + "; last acknowledged heartbeat "
                            + millis(nowNs - s.lastHeardNs) + " ms ago, so its lease has expired");
                    return 1;
                }
                return 0;
            }
            case DECLARING -> {
                if (s.declarePending && nowNs - s.declareAtNs >= 0) {
                    s.declarePending = false;
                    actions.declare(s.id, s.address, s.condemnation + " (declaration retried)");
                    return 1;
                }
                return 0;
            }
            default -> throw new IllegalStateException("phase " + s.phase);
        }
    }

    private int sendProbe(Server s, long nowNs, Actions actions) {
        if (s.phase != Phase.SUSPECT) {
            return 0;
        }
        if (s.attempt >= timeouts.probeAttempts()) {
            probeFailed(s);
            return 0;
        }
        s.attempt++;
        s.probeOutstanding = true;
        s.probeSentNs = nowNs;
        s.probeDeadlineNs = nowNs + timeouts.probeTimeoutNs();
        actions.probe(s.id, s.address, s.attempt, timeouts.probeTimeoutNs());
        return 1;
    }

    /**
     * How long a server's silence must last before it is suspected: the configured suspicion,
     * stretched to {@value #GAP_MULTIPLE} times its longest recent heartbeat gap when that is
     * longer, up to {@value #MAX_SUSPECT_STRETCH} times the configured one.
     */
    private long suspectAfterNs(Server s) {
        long base = timeouts.suspectNs();
        long stretched = s.recentGapNs > Long.MAX_VALUE / GAP_MULTIPLE ? Long.MAX_VALUE : s.recentGapNs * GAP_MULTIPLE;
        return Math.min(Math.max(base, stretched), base * MAX_SUSPECT_STRETCH);
    }

    /** The silence after which a tracked server is suspected now, in ms, or -1 if not tracked (metrics, tests). */
    public long suspectAfterMs(long serverId) {
        Server s = servers.get(serverId);
        return s == null ? -1 : millis(suspectAfterNs(s));
    }

    /** Milliseconds since the last acknowledged heartbeat (or tracking start), or -1 if not tracked. */
    public long silenceMs(long serverId, long nowNs) {
        Server s = servers.get(serverId);
        return s == null ? -1 : millis(nowNs - s.lastHeardNs);
    }

    private static long millis(long ns) {
        return TimeUnit.NANOSECONDS.toMillis(ns);
    }
}
