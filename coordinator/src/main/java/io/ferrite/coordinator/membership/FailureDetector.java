package io.ferrite.coordinator.membership;

import io.ferrite.coordinator.rpc.HeartbeatEndpoint;
import io.ferrite.coordinator.rpc.Leadership;
import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.coordinator.zk.ClusterStoreException;
import io.ferrite.coordinator.zk.ClusterView;
import io.ferrite.coordinator.zk.MalformedNodes;
import io.ferrite.coordinator.zk.NodeCodec;
import io.ferrite.coordinator.zk.Zk;
import io.ferrite.proto.v1.HeartbeatRequest;
import io.ferrite.proto.v1.HeartbeatResponse;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Status;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's failure detector (DESIGN §5; docs/ARCHITECTURE.md, "Failure detection and
 * fencing"), an Agrona {@link Agent}: servers send heartbeats to the leader
 * ({@link #receive}, behind {@code CoordinatorService.Heartbeat}); one that stays silent for
 * {@code suspect-after-ms} is probed ({@code ControlService.Ping}, a short deadline, retried);
 * one whose probes all fail is declared CRASHED (compare-and-set of its record from UP) once
 * the lease its last acknowledged heartbeat granted must have expired by this coordinator's
 * clock. The timing is {@link HeartbeatTracker}'s; this class feeds it heartbeats, ZooKeeper
 * events and probe outcomes, and carries out its probes and declarations.
 *
 * <p><b>Contract (what crash recovery relies on).</b> CRASHED is written only (1) by the leader,
 * with its epoch written and its ZooKeeper session confirmed within two thirds of the session
 * timeout, (2) once {@code now - lastAcknowledgedHeartbeatReceipt >= lease + margin} on the
 * leader's monotonic clock, where the server's lease runs from the send time of that heartbeat
 * (before its receipt) and the server stops serving at {@code send + lease - its margin}, and
 * (3) after a new leader's election, not before a full {@code lease + margin} has passed. From
 * the decision on, the server's heartbeats are not acknowledged. So when anyone sees CRASHED,
 * the server serves nothing and acknowledges nothing; <b>CRASHED is final</b>: the server is
 * deposed, a rejoin refuses it, and recovery may reassign its tablets at once.
 *
 * <p>The ZooKeeper liveness node is a second signal: its disappearance makes the server a suspect
 * at once (it is probed, not declared: a server that lost only its ZooKeeper session is alive and
 * rejoins). A newer generation of the same index replaces an older one: the older one's
 * heartbeats are answered "deposed" and it is declared once its lease expired.
 *
 * <p>Servers are tracked from direct ZooKeeper reads (on election, on a new record, on a
 * heartbeat from an unknown id, and at every {@link #scan}), never from a cached UP that may lag a
 * CRASHED; cached events may only make it forget or suspect a server. Threads: heartbeats on gRPC
 * threads, events on the cache thread, the duty cycle on the agent's runner; all meet in the
 * tracker under this object's lock. ZooKeeper reads and writes run on {@code zkExecutor}.
 */
public final class FailureDetector implements ClusterView.Listener, HeartbeatEndpoint, Agent, HeartbeatTracker.Actions {
    private static final Logger LOG = LoggerFactory.getLogger(FailureDetector.class);
    private static final int MAX_ATTEMPTS = 16;
    /** How often the leader confirms its ZooKeeper session (a background sync). */
    private static final long CONFIRM_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);
    /** A confirmation unanswered this long no longer holds the next one back (its answer still counts). */
    private static final long CONFIRM_GIVE_UP_NS = TimeUnit.SECONDS.toNanos(1);

    private final CuratorFramework client;
    private final ClusterPaths paths;
    private final ClusterView view;
    private final Executor zkExecutor;
    private final Leadership leadership;
    private final Prober prober;
    private final NanoClock clock;
    private final long fallbackSessionTimeoutNs;
    private final HeartbeatTracker tracker;
    private final MalformedNodes malformed = new MalformedNodes("failure detector");
    /** Ids a direct read is pending for (not yet tracked). */
    private final Set<Long> lookups = ConcurrentHashMap.newKeySet();
    /** Send time of the latest ZooKeeper round trip that succeeded (the leader's session was alive then). */
    private final AtomicLong confirmedSendNs = new AtomicLong();
    private volatile boolean confirmedOnce;
    private volatile boolean confirmInFlight;
    private volatile long confirmSentNs;
    private volatile long confirmWindowNs;
    private long nextConfirmNs;
    private volatile boolean active;
    private final List<Runnable> pending = new ArrayList<>();
    private final AtomicLong declared = new AtomicLong();
    private final AtomicLong probesSent = new AtomicLong();

    /**
     * @param zkExecutor             runs ZooKeeper reads and declarations (one thread keeps them ordered)
     * @param prober                 pings servers
     * @param timeouts               lease, margin, suspicion and probe timeouts
     * @param clock                  this process's monotonic clock (read once per duty cycle)
     * @param sessionTimeoutMs       the configured ZooKeeper session timeout (until the negotiated one is known)
     */
    public FailureDetector(CuratorFramework client, ClusterPaths paths, ClusterView view, Executor zkExecutor,
                           Leadership leadership, Prober prober, DetectionTimeouts timeouts, NanoClock clock,
                           int sessionTimeoutMs) {
        this.client = client;
        this.paths = paths;
        this.view = view;
        this.zkExecutor = zkExecutor;
        this.leadership = leadership;
        this.prober = prober;
        this.clock = clock;
        this.tracker = new HeartbeatTracker(timeouts);
        this.fallbackSessionTimeoutNs = TimeUnit.MILLISECONDS.toNanos(sessionTimeoutMs);
        this.confirmWindowNs = fallbackSessionTimeoutNs * 2 / 3;
    }

    @Override
    public String roleName() {
        return "ferrite-failure-detector";
    }

    public DetectionTimeouts timeouts() {
        return tracker.timeouts();
    }

    /**
     * This coordinator became leader and wrote its epoch: starts with no heartbeat history (every
     * server's silence counts from now), and tracks every UP server read directly from ZooKeeper.
     * Call on {@code zkExecutor}.
     */
    public void start() {
        long nowNs = clock.nanoTime();
        synchronized (this) {
            tracker.lead(nowNs);
        }
        active = true;
        confirm(nowNs);
        guarded("initial scan", this::scanAll);
        LOG.info("failure detector started: lease {} ms + margin {} ms, suspect after {} ms, {} probe(s) of {} ms;"
                        + " no server is declared before {} ms from now",
                ms(timeouts().leaseNs()), ms(timeouts().marginNs()), ms(timeouts().suspectNs()),
                timeouts().probeAttempts(), ms(timeouts().probeTimeoutNs()), ms(timeouts().leaseWaitNs()));
    }

    /** No longer leader: forgets everything and answers heartbeats NOT_LEADER. */
    public void stop() {
        active = false;
        synchronized (this) {
            tracker.stepDown();
        }
    }

    /** Whether it runs (this coordinator leads). */
    public boolean isActive() {
        return active;
    }

    /** Servers declared CRASHED by this coordinator (metrics, tests). */
    public long declaredCount() {
        return declared.get();
    }

    public long probesSent() {
        return probesSent.get();
    }

    // ---- heartbeats (gRPC threads) ----

    @Override
    public HeartbeatResponse receive(HeartbeatRequest request) {
        long nowNs = clock.nanoTime();
        HeartbeatResponse.Builder response = HeartbeatResponse.newBuilder().setSequence(request.getSequence());
        long epoch = leadership.epoch();
        if (!active || epoch == 0 || !leadership.isLeader() || !confirmed(nowNs)) {
            return response.setStatus(Status.NOT_LEADER).setLeader(leadership.leaderAddress().orElse(""))
                    .setMessage("this coordinator cannot grant leases now (not the confirmed leader)").build();
        }
        long serverId = request.getServerId();
        HeartbeatTracker.Verdict verdict;
        synchronized (this) {
            verdict = tracker.heartbeat(serverId, nowNs);
        }
        response.setCoordinatorEpoch(epoch);
        return switch (verdict) {
            case ACK -> response.setStatus(Status.OK).setLeaseMs((int) ms(timeouts().leaseNs())).build();
            case DECLARING -> response.setStatus(Status.RETRY)
                    .setMessage("this server is being declared CRASHED").build();
            case DEPOSED -> response.setStatus(Status.WRONG_SERVER)
                    .setMessage("a newer generation of this server registered").build();
            case UNKNOWN -> unknown(serverId, response);
        };
    }

    /** A heartbeat from a server not tracked: deposed if the cluster shows it not UP, else look it up. */
    private HeartbeatResponse unknown(long serverId, HeartbeatResponse.Builder response) {
        Optional<ServerInfo> cached = view.server(serverId);
        if (cached.isPresent() && cached.get().getStatus() != ServerStatus.UP) {
            // No record goes back to UP (CRASHED is final), so a cached non-UP status is reliable.
            return response.setStatus(Status.WRONG_SERVER)
                    .setMessage("the cluster lists server " + ClusterPaths.serverNode(serverId) + " as "
                            + cached.get().getStatus()).build();
        }
        lookUp(serverId);
        return response.setStatus(Status.RETRY).setMessage("the leader does not know this server yet").build();
    }

    // ---- ZooKeeper events (cache thread) ----

    @Override
    public void serverChanged(ServerInfo server) {
        if (!active || (int) (server.getServerId() >>> 32) == 0) {
            return;
        }
        long id = server.getServerId();
        if (server.getStatus() != ServerStatus.UP) {
            synchronized (this) {
                tracker.forget(id);
            }
            return;
        }
        long nowNs = clock.nanoTime();
        synchronized (this) {
            for (long tracked : tracker.tracked()) {
                if (tracked >>> 32 == id >>> 32 && Long.compareUnsigned(tracked, id) < 0) {
                    tracker.replaced(tracked, nowNs);
                }
            }
            if (tracker.isTracked(id)) {
                return;
            }
        }
        lookUp(id);
    }

    @Override
    public void livenessLost(long serverId) {
        if (active) {
            synchronized (this) {
                tracker.livenessLost(serverId, clock.nanoTime());
            }
        }
    }

    /** Reads a server's record directly and tracks it if it is UP (once per id at a time). */
    private void lookUp(long serverId) {
        if (!lookups.add(serverId)) {
            return;
        }
        try {
            zkExecutor.execute(() -> {
                try {
                    guarded("look up " + ClusterPaths.serverNode(serverId), () -> {
                        ServerInfo server = readRecord(serverId);
                        if (server != null && server.getStatus() == ServerStatus.UP && active) {
                            synchronized (this) {
                                tracker.track(serverId, server.getAddress(), clock.nanoTime());
                            }
                        }
                    });
                } finally {
                    lookups.remove(serverId);
                }
            });
        } catch (RejectedExecutionException e) {
            lookups.remove(serverId);
        }
    }

    // ---- the duty cycle ----

    @Override
    public int doWork() {
        long nowNs = clock.nanoTime();
        int work = 0;
        if (active && nowNs - nextConfirmNs >= 0) {
            nextConfirmNs = nowNs + CONFIRM_INTERVAL_NS;
            confirm(nowNs);
        }
        if (!active || !leadership.isLeader() || !confirmed(nowNs)) {
            return 0;
        }
        synchronized (this) {
            work += tracker.poll(nowNs, this);
        }
        for (Runnable action : pending) {
            action.run();
        }
        pending.clear();
        return work;
    }

    /** From {@link HeartbeatTracker#poll}, under the lock: queued, run after it is released. */
    @Override
    public void probe(long serverId, String address, int attempt, long timeoutNs) {
        pending.add(() -> {
            probesSent.incrementAndGet();
            prober.ping(address, timeoutNs).whenComplete((answeredId, failure) -> {
                boolean alive = failure == null && answeredId != null && answeredId == serverId;
                if (!alive) {
                    LOG.debug("probe {} of server {} at {}: {}", attempt, ClusterPaths.serverNode(serverId), address,
                            failure != null ? failure.toString() : "answered as " + answeredId);
                }
                synchronized (this) {
                    tracker.probeAnswered(serverId, attempt, alive, clock.nanoTime());
                }
            });
        });
    }

    /** From {@link HeartbeatTracker#poll}, under the lock: queued, the write runs on the ZooKeeper executor. */
    @Override
    public void declare(long serverId, String address, String reason) {
        pending.add(() -> {
            try {
                zkExecutor.execute(() -> declareNow(serverId, reason));
            } catch (RejectedExecutionException e) {
                LOG.debug("closing: not declaring {}", ClusterPaths.serverNode(serverId));
            }
        });
    }

    private void declareNow(long serverId, String reason) {
        long nowNs = clock.nanoTime();
        boolean done;
        try {
            done = active && leadership.isLeader() && confirmed(nowNs) && markCrashed(serverId, reason);
        } catch (RuntimeException e) {
            LOG.warn("failure detector: declaring {} failed; retrying: {}", ClusterPaths.serverNode(serverId),
                    e.toString());
            done = false;
        }
        synchronized (this) {
            if (done) {
                tracker.forget(serverId);
            } else {
                tracker.declareFailed(serverId, clock.nanoTime());
            }
        }
    }

    /**
     * Moves an UP record to CRASHED (compare-and-set).
     *
     * @return true if written, or if the record is not UP any more (nothing to do)
     */
    private boolean markCrashed(long serverId, String reason) {
        String path = paths.server(serverId);
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            Zk.Versioned record = Zk.read(client, path);
            if (record == null) {
                return true;
            }
            ServerInfo server = decode(serverId, record);
            if (server == null || server.getStatus() != ServerStatus.UP) {
                return true;
            }
            byte[] crashed = server.toBuilder().setStatus(ServerStatus.CRASHED).build().toByteArray();
            try {
                Zk.keeper("mark " + path + " crashed",
                        () -> client.setData().withVersion(record.version()).forPath(path, crashed));
                declared.incrementAndGet();
                LOG.warn("server {} at {} declared CRASHED (epoch {}): {}", ClusterPaths.serverNode(serverId),
                        server.getAddress(), leadership.epoch(), reason);
                return true;
            } catch (KeeperException.BadVersionException e) {
                // The record changed since we read it (a rejoin of an UP record): look again.
            } catch (KeeperException.NoNodeException e) {
                return true;
            } catch (KeeperException e) {
                throw new ClusterStoreException("mark " + path + " crashed: " + e.getMessage(), e);
            }
        }
        return false;
    }

    // ---- leadership confirmation ----

    /**
     * Starts a background sync with ZooKeeper; when it succeeds, this coordinator's session was
     * alive at {@code sendNs}, so no other coordinator can be leader before {@code sendNs} plus the
     * session timeout (its latch node lives as long as the session): acknowledgements and
     * declarations are allowed for two thirds of that.
     */
    private void confirm(long sendNs) {
        if (confirmInFlight && sendNs - confirmSentNs < CONFIRM_GIVE_UP_NS) {
            return;
        }
        confirmInFlight = true;
        confirmSentNs = sendNs;
        try {
            client.sync().inBackground((c, event) -> {
                confirmInFlight = false;
                if (event.getResultCode() == KeeperException.Code.OK.intValue()) {
                    confirmedSendNs.accumulateAndGet(sendNs, (a, b) -> confirmedOnce && a - b > 0 ? a : b);
                    confirmedOnce = true;
                    confirmWindowNs = negotiatedSessionTimeoutNs() * 2 / 3;
                }
            }).forPath(paths.root());
        } catch (Exception e) {
            confirmInFlight = false;
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.debug("could not confirm the ZooKeeper session: {}", e.toString());
        }
    }

    private long negotiatedSessionTimeoutNs() {
        try {
            int ms = client.getZookeeperClient().getZooKeeper().getSessionTimeout();
            return ms > 0 ? TimeUnit.MILLISECONDS.toNanos(ms) : fallbackSessionTimeoutNs;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return fallbackSessionTimeoutNs;
        }
    }

    /** Whether this coordinator's session is known alive recently enough that no other can lead. */
    private boolean confirmed(long nowNs) {
        return confirmedOnce && nowNs - confirmedSendNs.get() < confirmWindowNs;
    }

    // ---- scans ----

    /** Re-reads every record (periodically, to catch what an error or a lost event hid). */
    public void scan() {
        if (active) {
            guarded("scan", this::scanAll);
        }
    }

    private void scanAll() {
        Map<Long, Long> newestByIndex = new HashMap<>();
        Map<Long, ServerInfo> upServers = new HashMap<>();
        List<Long> withoutLiveness = new ArrayList<>();
        for (String node : Zk.children(client, paths.servers())) {
            long id = ClusterPaths.tryParseServerNode(node);
            if (id == 0) {
                malformed.skipped(paths.servers() + "/" + node, -1, "not a server id (<index>.<generation>)");
                continue;
            }
            newestByIndex.merge(id >>> 32, id, (a, b) -> Long.compareUnsigned(a, b) >= 0 ? a : b);
            Zk.Versioned record = Zk.read(client, paths.server(id));
            ServerInfo server = record == null ? null : decode(id, record);
            if (server != null && server.getStatus() == ServerStatus.UP) {
                upServers.put(id, server);
                if (!Zk.exists(client, paths.live(id))) {
                    withoutLiveness.add(id);
                }
            }
        }
        long nowNs = clock.nanoTime();
        synchronized (this) {
            for (long tracked : tracker.tracked()) {
                if (!upServers.containsKey(tracked)) {
                    tracker.forget(tracked);
                }
            }
            for (Map.Entry<Long, ServerInfo> up : upServers.entrySet()) {
                long id = up.getKey();
                tracker.track(id, up.getValue().getAddress(), nowNs);
                if (newestByIndex.get(id >>> 32) != id) {
                    tracker.replaced(id, nowNs);
                }
            }
            for (long id : withoutLiveness) {
                tracker.livenessLost(id, nowNs); // its session is gone: probe it now, grace or not
            }
        }
    }

    private ServerInfo readRecord(long serverId) {
        Zk.Versioned record = Zk.read(client, paths.server(serverId));
        return record == null ? null : decode(serverId, record);
    }

    /** The record, or null (reported once) if it does not decode or names another server. */
    private ServerInfo decode(long serverId, Zk.Versioned record) {
        String path = paths.server(serverId);
        try {
            ServerInfo server = NodeCodec.decodeServer(path, record.data());
            if (server.getServerId() == serverId) {
                return server;
            }
            malformed.skipped(path, record.version(), "record names server "
                    + ClusterPaths.serverNode(server.getServerId()));
        } catch (ClusterStoreException e) {
            malformed.skipped(path, record.version(), "data is not a ServerInfo");
        }
        return null;
    }

    private static long ms(long ns) {
        return TimeUnit.NANOSECONDS.toMillis(ns);
    }

    private static void guarded(String what, Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            LOG.warn("failure detector: {} failed; the next event or scan retries it", what, e);
        }
    }
}
