package io.ferrite.server.lease;

import io.ferrite.coordinator.registry.ServerId;
import io.ferrite.coordinator.registry.ServerRegistry;
import io.ferrite.coordinator.zk.ClusterStoreException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
 * others).
 *
 * <p>The lease is the ZooKeeper session that holds the server's ephemeral liveness node. The
 * ZooKeeper client declares the connection lost after two thirds of the session timeout without
 * an answer, while the ensemble expires the session only after the whole timeout; only then does
 * the liveness node vanish and the leader coordinator declare the server CRASHED. So on
 * Curator's SUSPENDED the {@link Lease} turns SUSPENDED at once and the data service refuses
 * work (RETRY) at least a third of the session timeout before anyone else could own the tablets.
 * On RECONNECTED with the same session the lease is valid again. On LOST (the session expired)
 * the lease is LOST: the {@code onLost} actions run (the server forgets its tablets and drops
 * their data, which the cluster now considers crashed), and the server registers again under the
 * same stable name, as the next generation, with no tablets.
 */
public final class Membership implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);
    private static final long REJOIN_BACKOFF_MS = 500;
    private static final long CLOSE_WAIT_MS = 10_000;

    private final CuratorFramework client;
    private final ServerRegistry registry;
    private final Lease lease;
    private final List<Runnable> onLost = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService leaseExecutor;
    private final ConnectionStateListener listener = this::stateChanged;
    private volatile Registration registration;
    private volatile long sessionId;
    private volatile boolean closed;

    private record Registration(String stableName, String address, List<String> services, String failureDomain,
                                io.ferrite.proto.v1.ReplicationEndpoint replication) {
    }

    private Membership(CuratorFramework client, ServerRegistry registry, Lease lease) {
        this.client = client;
        this.lease = lease;
        this.registry = registry;
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
            Membership membership = new Membership(client, registry, lease);
            client.getConnectionStateListenable().addListener(membership.listener);
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

    /** Runs {@code action} (on the lease thread) when the lease is lost, before registering again. */
    public void onLost(Runnable action) {
        onLost.add(action);
    }

    public Lease lease() {
        return lease;
    }

    public ServerRegistry registry() {
        return registry;
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
                }
            }
            case LOST -> lost("session expired");
            default -> {
            }
        }
    }

    private void lost(String why) {
        if (!lease.lose()) {
            return;
        }
        LOG.warn("server {}: ZooKeeper lease lost ({}); the cluster will declare it CRASHED; dropping its tablets"
                + " and registering again", lease.lastServerId().map(ServerId::toString).orElse("?"), why);
        try {
            leaseExecutor.execute(this::rejoin);
        } catch (RejectedExecutionException e) {
            LOG.debug("closing: not registering again");
        }
    }

    /** On the lease thread: forget the old tablets, then register again. */
    private void rejoin() {
        for (Runnable action : onLost) {
            try {
                action.run();
            } catch (RuntimeException e) {
                LOG.warn("an action on lease loss failed", e);
            }
        }
        tryRegisterAgain();
    }

    /** One attempt to register as the next generation; schedules the next one if it could not. */
    private void tryRegisterAgain() {
        Registration r = registration;
        if (closed || r == null || lease.state() != Lease.State.LOST) {
            return;
        }
        try {
            // The registry notices the expiry on its own listener; wait for it and for a new session.
            if (registry.serverId().isEmpty() && client.getZookeeperClient().isConnected()) {
                ServerId id = registerNow(r);
                LOG.info("registered again as server {}", id);
                return;
            }
        } catch (ClusterStoreException | IllegalStateException e) {
            LOG.info("registering again failed ({}); retrying", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (!closed) {
            try {
                leaseExecutor.schedule(this::tryRegisterAgain, REJOIN_BACKOFF_MS, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                LOG.debug("closing: not registering again");
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
