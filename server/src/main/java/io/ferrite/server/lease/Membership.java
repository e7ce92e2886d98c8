package io.ferrite.server.lease;

import io.ferrite.coordinator.registry.OwnedTablets;
import io.ferrite.coordinator.registry.ServerId;
import io.ferrite.coordinator.registry.ServerListListener;
import io.ferrite.coordinator.registry.ServerRegistry;
import io.ferrite.coordinator.rpc.LeaderEpoch;
import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.coordinator.zk.ClusterStoreException;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.server.control.EpochFence;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.SystemNanoClock;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This server's membership in the cluster and the fencing that goes with it (DESIGN §5: a
 * master that cannot confirm its lease stops serving before its tablets can be handed to
 * others; losing ZooKeeper is not a crash).
 *
 * <p>The lease is the ZooKeeper session that holds the server's ephemeral liveness node. The
 * ZooKeeper client declares the connection lost after two thirds of the session timeout without
 * an answer, while the ensemble expires the session only after the whole timeout; only then does
 * the liveness node vanish and the leader coordinator declare the server CRASHED. So on
 * Curator's SUSPENDED the {@link Lease} turns SUSPENDED at once and the data service refuses
 * work (RETRY) at least a third of the session timeout before anyone else could own the tablets.
 * On RECONNECTED with the same session the lease is valid again.
 *
 * <p>On LOST (the session expired, or the client reconnected with a new one) the lease is LOST:
 * the server serves nothing but keeps its memory and its id (issue 9, I5). As soon as ZooKeeper
 * answers, the lease thread {@link ServerRegistry#rejoin rejoins} under the same id (one
 * transaction: record UP again, liveness node re-created), reads which tablets ZooKeeper still
 * names it the owner of, and hands that to the {@link #onRejoined} actions (the server drops
 * only data the cluster has visibly given away, e.g. a table dropped while it was out); only
 * then is the lease VALID again. If the cluster moved on without it (its record REMOVED or being
 * recovered, a newer generation under its name) it is deposed: the {@link #onDeposed} actions
 * run and the lease stays LOST for good. Rejoin attempts repeat every {@value #REJOIN_BACKOFF_MS}
 * ms and at every reconnection until one settles it.
 *
 * <p>The ZooKeeper session is half of the lease. The other half is the heartbeat lease
 * ({@link #startHeartbeats}): a {@link HeartbeatSender} sends heartbeats to the leader
 * coordinator, and data is served only while the last acknowledged one's lease runs (see
 * {@link Lease}). It is what bounds a paused or partitioned server in time, whatever its threads
 * have noticed. Being declared CRASHED is final: a heartbeat answered WRONG_SERVER, the server's
 * own record seen CRASHED (or anything but UP) in its cached view, or a rejoin that finds it so,
 * all depose the server.
 */
public final class Membership implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);
    private static final long REJOIN_BACKOFF_MS = 250;
    private static final long CLOSE_WAIT_MS = 10_000;

    private final CuratorFramework client;
    private final ServerRegistry registry;
    private final ClusterPaths paths;
    private final Lease lease;
    private final AtomicBoolean deposedOnce = new AtomicBoolean();
    private final ServerListListener ownRecord = this::ownRecordChanged;
    private volatile HeartbeatSender heartbeats;
    private AgentRunner heartbeatRunner;
    private final List<Consumer<OwnedTablets>> onRejoined = new CopyOnWriteArrayList<>();
    private final List<Runnable> onDeposed = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService leaseExecutor;
    private final ConnectionStateListener listener = this::stateChanged;
    private final AtomicLong losses = new AtomicLong();
    private ScheduledFuture<?> pendingRejoin;
    private volatile Registration registration;
    private volatile long sessionId;
    private volatile boolean closed;

    private record Registration(String stableName, String address, List<String> services, String failureDomain,
                                io.ferrite.proto.v1.ReplicationEndpoint replication) {
    }

    private Membership(CuratorFramework client, ServerRegistry registry, ClusterPaths paths, Lease lease) {
        this.client = client;
        this.lease = lease;
        this.registry = registry;
        this.paths = paths;
        this.leaseExecutor = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("ferrite-lease").factory());
    }

    /**
     * Connects to ZooKeeper with a session of its own and opens the cluster's registry.
     *
     * @param lease the lease to keep (STARTING until {@link #register})
     * @throws ClusterStoreException if ZooKeeper cannot be reached within {@code connectTimeout}
     */
    public static Membership connect(String zkConnect, String cluster, Duration sessionTimeout,
                                     Duration connectTimeout, Lease lease) throws InterruptedException {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(zkConnect)
                .sessionTimeoutMs((int) sessionTimeout.toMillis())
                .connectionTimeoutMs((int) connectTimeout.toMillis())
                .retryPolicy(new ExponentialBackoffRetry(100, 10, 2_000))
                .build();
        client.start();
        try {
            if (!client.blockUntilConnected((int) connectTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ClusterStoreException("zookeeper: " + zkConnect + " not reachable within " + connectTimeout);
            }
            ServerRegistry registry = ServerRegistry.open(client, cluster, connectTimeout);
            Membership membership = new Membership(client, registry, new ClusterPaths(cluster), lease);
            client.getConnectionStateListenable().addListener(membership.listener);
            registry.addListener(membership.ownRecord);
            return membership;
        } catch (InterruptedException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /**
     * Registers the server (creates its liveness node) and makes the lease valid.
     *
     * @return the server's id
     */
    public ServerId register(String stableName, String address, List<String> services, String failureDomain)
            throws InterruptedException {
        return register(stableName, address, services, failureDomain, null);
    }

    /** Registers as {@link #register(String, String, List, String)}, with the backup's replication endpoint. */
    public ServerId register(String stableName, String address, List<String> services, String failureDomain,
                             io.ferrite.proto.v1.ReplicationEndpoint replication) throws InterruptedException {
        Registration r = new Registration(stableName, address, List.copyOf(services), failureDomain, replication);
        registration = r;
        return registerNow(r);
    }

    private ServerId registerNow(Registration r) throws InterruptedException {
        ServerId id = registry.register(r.stableName(), r.address(), r.services(), r.failureDomain(),
                r.replication());
        sessionId = currentSessionId();
        lease.granted(id);
        return id;
    }

    /**
     * Starts sending heartbeats to the leader coordinator (after {@link #register}): each one it
     * acknowledges extends the lease to its send time plus the granted lease minus
     * {@code marginMs}; epochs it carries raise {@code fence}.
     *
     * @param intervalMs time between heartbeats
     * @param marginMs   how much earlier than the granted lease this server stops serving
     */
    public synchronized void startHeartbeats(EpochFence fence, long intervalMs, long marginMs) {
        if (heartbeats != null || closed) {
            return;
        }
        HeartbeatSender.Directory directory = new HeartbeatSender.Directory() {
            @Override
            public java.util.Optional<String> leader() {
                return registry.leaderCoordinator();
            }

            @Override
            public List<String> coordinators() {
                return registry.coordinators();
            }
        };
        heartbeats = new HeartbeatSender(lease, fence,
                () -> lease.lastServerId().map(ServerId::asLong).orElse(0L), new GrpcHeartbeats(), directory,
                new SystemNanoClock(), TimeUnit.MILLISECONDS.toNanos(intervalMs),
                TimeUnit.MILLISECONDS.toNanos(marginMs), why -> deposedByCluster("the leader coordinator says: " + why));
        heartbeatRunner = new AgentRunner(new SleepingMillisIdleStrategy(Math.max(1, Math.min(5, intervalMs / 10))),
                e -> LOG.warn("heartbeats: duty cycle failed", e), null, heartbeats);
        AgentRunner.startOnThread(heartbeatRunner, Thread.ofPlatform().daemon().name("ferrite-heartbeat").factory());
    }

    /**
     * Waits until the leader acknowledged a heartbeat (the lease runs), e.g. before announcing
     * that the server serves.
     *
     * @return whether it did within {@code timeoutMs}
     */
    public boolean awaitFirstHeartbeat(long timeoutMs) throws InterruptedException {
        HeartbeatSender sender = heartbeats;
        return sender != null && sender.awaitFirstAck(timeoutMs);
    }

    /** The heartbeat sender, once started (metrics, tests). */
    public java.util.Optional<HeartbeatSender> heartbeats() {
        return java.util.Optional.ofNullable(heartbeats);
    }

    /**
     * The coordinator epoch ZooKeeper holds now (the latest leader term's), read directly: a floor
     * for this server's {@link EpochFence}, as no leader of a lower epoch may act any more.
     */
    public long coordinatorEpoch() {
        return LeaderEpoch.read(client, paths);
    }

    /** The cached view shows this server's own record not UP: the cluster gave up on it. */
    private void ownRecordChanged(io.ferrite.proto.v1.ServerInfo server) {
        ServerId self = lease.lastServerId().orElse(null);
        if (self != null && server.getServerId() == self.asLong() && server.getStatus() != ServerStatus.UP) {
            deposedByCluster("its record is " + server.getStatus());
        }
    }

    /** Deposes this server (on the lease thread), once. */
    void deposedByCluster(String why) {
        try {
            leaseExecutor.execute(() -> deposed(why));
        } catch (RejectedExecutionException e) {
            LOG.debug("closing: not deposing ({})", why);
        }
    }

    /**
     * Runs {@code action} on the lease thread after a rejoin, before the lease is valid again,
     * with what ZooKeeper says this server owns; an exception (e.g. ZooKeeper failing again)
     * keeps the lease LOST and the rejoin is tried again, actions included.
     */
    public void onRejoined(Consumer<OwnedTablets> action) {
        onRejoined.add(action);
    }

    /** Runs {@code action} on the lease thread once, if the cluster gave this server's tablets away. */
    public void onDeposed(Runnable action) {
        onDeposed.add(action);
    }

    public Lease lease() {
        return lease;
    }

    public ServerRegistry registry() {
        return registry;
    }

    /** Where the cluster's znodes are. */
    public ClusterPaths paths() {
        return paths;
    }

    /** The ZooKeeper client holding the lease (tests use it to expire the session). */
    public CuratorFramework client() {
        return client;
    }

    /** Whether the ZooKeeper client is connected right now. */
    public boolean isConnected() {
        return client.getZookeeperClient().isConnected();
    }

    private long currentSessionId() {
        try {
            return client.getZookeeperClient().getZooKeeper().getSessionId();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return -1;
        }
    }

    /** Called on Curator's event thread: must be quick. */
    private void stateChanged(CuratorFramework ignored, ConnectionState state) {
        if (closed) {
            return;
        }
        switch (state) {
            case SUSPENDED, READ_ONLY -> {
                if (lease.suspend()) {
                    LOG.warn("ZooKeeper connection {}: lease unconfirmed, not serving data until it is", state);
                }
            }
            case RECONNECTED, CONNECTED -> {
                if (lease.state() == Lease.State.SUSPENDED) {
                    if (currentSessionId() == sessionId && registry.isLeaseValid()) {
                        if (lease.resume()) {
                            LOG.info("ZooKeeper reconnected within the session: serving again");
                        }
                    } else {
                        lost("reconnected with a new session");
                    }
                } else if (lease.state() == Lease.State.LOST) {
                    scheduleRejoin(0);
                }
            }
            case LOST -> lost("session expired");
            default -> {
            }
        }
    }

    private void lost(String why) {
        losses.incrementAndGet();
        if (lease.lose()) {
            LOG.warn("server {}: ZooKeeper lease lost ({}); not serving until it has rejoined under its id (its"
                    + " memory and log are kept)", lease.lastServerId().map(ServerId::toString).orElse("?"), why);
        }
        if (lease.state() == Lease.State.LOST) {
            scheduleRejoin(0);
        }
    }

    /** Runs a rejoin attempt after {@code delayMs}, unless one is due sooner already. */
    private synchronized void scheduleRejoin(long delayMs) {
        if (closed || lease.isDeposed()) {
            return;
        }
        if (pendingRejoin != null && !pendingRejoin.isDone()
                && pendingRejoin.getDelay(TimeUnit.MILLISECONDS) <= delayMs) {
            return;
        }
        if (pendingRejoin != null) {
            pendingRejoin.cancel(false);
        }
        try {
            pendingRejoin = leaseExecutor.schedule(this::tryRejoin, delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("closing: not rejoining");
        }
    }

    /**
     * On the lease thread: one attempt to rejoin under the same id and reconcile the tablets;
     * schedules the next one if ZooKeeper is not there yet or the session went again meanwhile.
     */
    private void tryRejoin() {
        if (closed || registration == null || lease.state() != Lease.State.LOST || lease.isDeposed()) {
            return;
        }
        long lossesBefore = losses.get();
        try {
            if (client.getZookeeperClient().isConnected()) {
                ServerRegistry.Rejoin outcome = registry.rejoin();
                if (outcome == ServerRegistry.Rejoin.DEPOSED) {
                    deposed("the rejoin found the cluster moved on");
                    return;
                }
                sessionId = currentSessionId();
                OwnedTablets owned = registry.ownedTablets(registry.registeredId().orElseThrow());
                for (Consumer<OwnedTablets> action : onRejoined) {
                    action.accept(owned);
                }
                if (losses.get() == lossesBefore && registry.isLeaseValid() && lease.rejoined()) {
                    LOG.info("server {}: rejoined the cluster under its id; serving again",
                            lease.lastServerId().map(ServerId::toString).orElse("?"));
                    return;
                }
            }
        } catch (ClusterStoreException | IllegalStateException e) {
            LOG.info("rejoining failed ({}); retrying", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        scheduleRejoin(REJOIN_BACKOFF_MS);
    }

    private void deposed(String why) {
        lease.depose();
        if (!deposedOnce.compareAndSet(false, true)) {
            return;
        }
        LOG.error("server {}: deposed ({}): the cluster declared this server CRASHED or gave its tablets away; it"
                + " will never serve under this id again (restart the process to join as a new generation)",
                lease.lastServerId().map(ServerId::toString).orElse("?"), why);
        for (Runnable action : onDeposed) {
            try {
                action.run();
            } catch (RuntimeException e) {
                LOG.warn("an action on deposition failed", e);
            }
        }
    }

    /** Ends the lease: the liveness node is deleted and the session closed. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        lease.close();
        synchronized (this) {
            if (heartbeatRunner != null) {
                heartbeatRunner.close();
            }
        }
        registry.removeListener(ownRecord);
        leaseExecutor.shutdownNow();
        try {
            // An action on lease loss may be dropping data: let it finish before the engine goes.
            if (!leaseExecutor.awaitTermination(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS)) {
                LOG.warn("the lease thread did not stop within {} ms", CLOSE_WAIT_MS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.getConnectionStateListenable().removeListener(listener);
        try {
            registry.close();
        } finally {
            client.close();
        }
    }
}
