package io.ferrite.coordinator.registry;

import io.ferrite.coordinator.table.HashRange;
import io.ferrite.coordinator.zk.ClusterLayout;
import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.coordinator.zk.ClusterStoreException;
import io.ferrite.coordinator.zk.ClusterView;
import io.ferrite.coordinator.zk.MalformedNodes;
import io.ferrite.coordinator.zk.NodeCodec;
import io.ferrite.coordinator.zk.Zk;
import io.ferrite.proto.v1.ReplicationEndpoint;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Tablet;
import io.ferrite.proto.v1.TabletState;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server's membership in the cluster, written to ZooKeeper directly (no coordinator needed).
 *
 * <p>{@link #register} gives the server its {@link ServerId}: a server seen before under the
 * same stable name (for instance its host name and port, or a name from its configuration)
 * keeps its index and gets the next generation; a new name gets the next free index. One
 * ZooKeeper transaction writes the name's newest id, the server's record (status UP) and its
 * ephemeral liveness node, so the cluster never sees a registered server without a liveness
 * node. The liveness node lives as long as this registry's ZooKeeper session: when the
 * process dies or the session expires it disappears, and the leader coordinator probes the
 * server (liveness itself is judged by heartbeats to the leader; see the coordinator's
 * {@code FailureDetector}). After a session expiry the server must stop serving (it is told through
 * {@link #addLeaseListener}); losing ZooKeeper is not a crash, though (issue 9, I5), so it keeps
 * its id and {@link #rejoin}s under it once ZooKeeper answers again, unless the cluster has
 * given its tablets away meanwhile. Only a new process registers as a new generation.
 *
 * <p>The registry keeps a cached copy of the server list ({@link #servers()}) and tells
 * {@link ServerListListener}s about changes.
 *
 * <p>Thread-safe.
 */
public final class ServerRegistry implements AutoCloseable {
    public static final int DEFAULT_SESSION_TIMEOUT_MS = 10_000;
    public static final int DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;
    public static final int MAX_STABLE_NAME_BYTES = 256;
    /** Attempts of a registration transaction that lost a race with another registration. */
    private static final int MAX_ATTEMPTS = 64;

    private static final Logger LOG = LoggerFactory.getLogger(ServerRegistry.class);

    private final CuratorFramework client;
    private final boolean ownsClient;
    private final ClusterPaths paths;
    private final ClusterView view;
    private final List<Runnable> leaseListeners = new CopyOnWriteArrayList<>();
    private final Map<ServerListListener, ClusterView.Listener> serverListeners = new ConcurrentHashMap<>();
    private final ConnectionStateListener connectionListener = this::connectionStateChanged;
    private final Object registrationLock = new Object();
    private final MalformedNodes malformed = new MalformedNodes("server registry");
    private volatile ServerId registered;
    private volatile String registeredName;
    private volatile boolean leaseLost;

    /** What {@link #rejoin} found. */
    public enum Rejoin {
        /** The server is UP again under its id, with a new liveness node. */
        REJOINED,
        /**
         * The cluster moved on without it (its record is gone, REMOVED or being recovered, or a
         * newer generation holds its stable name): it must never serve under this id again.
         */
        DEPOSED
    }

    private ServerRegistry(CuratorFramework client, boolean ownsClient, ClusterPaths paths) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.paths = paths;
        this.view = new ClusterView(client, paths);
    }

    /**
     * Connects to ZooKeeper with a session of its own and opens the cluster's registry.
     *
     * @param zkConnect      ZooKeeper connect string, {@code host:port[,host:port...]}
     * @param cluster        cluster name (the ZooKeeper namespace {@code /ferrite/<cluster>})
     * @param sessionTimeout ZooKeeper session timeout: how long after this process stops
     *                       answering its liveness node disappears
     * @param connectTimeout how long to wait for the first connection
     * @throws ClusterStoreException    if ZooKeeper cannot be reached in time
     * @throws IllegalArgumentException if the cluster name is not valid
     */
    public static ServerRegistry connect(String zkConnect, String cluster, Duration sessionTimeout,
            Duration connectTimeout) throws InterruptedException {
        ClusterPaths paths = new ClusterPaths(cluster);
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(zkConnect)
                .sessionTimeoutMs((int) sessionTimeout.toMillis())
                .connectionTimeoutMs((int) connectTimeout.toMillis())
                .retryPolicy(new ExponentialBackoffRetry(100, 10, 2_000))
                .build();
        client.start();
        try {
            if (!client.blockUntilConnected((int) connectTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ClusterStoreException("ZooKeeper at " + zkConnect + " not reachable within " + connectTimeout);
            }
            ServerRegistry registry = new ServerRegistry(client, true, paths);
            registry.start(connectTimeout);
            return registry;
        } catch (InterruptedException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /**
     * Opens the cluster's registry over a started client owned by the caller (closing the
     * registry does not close the client, but ends the registration's liveness only when the
     * client's session ends).
     */
    public static ServerRegistry open(CuratorFramework client, String cluster, Duration timeout)
            throws InterruptedException {
        ServerRegistry registry = new ServerRegistry(client, false, new ClusterPaths(cluster));
        try {
            registry.start(timeout);
        } catch (InterruptedException | RuntimeException e) {
            registry.close();
            throw e;
        }
        return registry;
    }

    private void start(Duration timeout) throws InterruptedException {
        client.getConnectionStateListenable().addListener(connectionListener);
        ClusterLayout.ensure(client, paths);
        view.start(timeout);
    }

    /**
     * Registers this server and creates its liveness node.
     *
     * @param stableName    identifies the server across restarts: 1..256 bytes of UTF-8
     * @param address       {@code host:port} of its data and control services
     * @param services      services it runs, e.g. {@code "master"}, {@code "backup"} (at least one)
     * @param failureDomain rack or zone label, or null / empty for none
     * @return the server's id for this run
     * @throws IllegalArgumentException if an argument is invalid
     * @throws IllegalStateException    if this registry already holds a live registration
     * @throws ClusterStoreException    if ZooKeeper could not be written
     */
    public ServerId register(String stableName, String address, Collection<String> services, String failureDomain)
            throws InterruptedException {
        return register(stableName, address, services, failureDomain, null);
    }

    /**
     * Registers this server as {@link #register(String, String, Collection, String)}, with the
     * endpoint its backup service receives replicas on.
     *
     * @param replication the backup's endpoint, or null without a backup service
     */
    public ServerId register(String stableName, String address, Collection<String> services, String failureDomain,
                             ReplicationEndpoint replication) throws InterruptedException {
        checkArguments(stableName, address, services);
        synchronized (registrationLock) {
            if (registered != null && !leaseLost) {
                throw new IllegalStateException("already registered as " + registered);
            }
            ServerInfo.Builder record = ServerInfo.newBuilder()
                    .setAddress(address)
                    .addAllServices(services)
                    .setStatus(ServerStatus.UP)
                    .setFailureDomain(failureDomain == null ? "" : failureDomain)
                    .setReplication(replication == null ? ReplicationEndpoint.getDefaultInstance() : replication);
            for (int attempt = 1; ; attempt++) {
                if (Thread.interrupted()) {
                    throw new InterruptedException("registration of " + stableName + " interrupted");
                }
                ServerId id = tryRegister(stableName, record);
                if (id != null) {
                    registered = id;
                    registeredName = stableName;
                    leaseLost = false;
                    LOG.info("registered '{}' at {} as server {} ({})", stableName, address, id, services);
                    return id;
                }
                if (attempt == MAX_ATTEMPTS) {
                    throw new ClusterStoreException("registration of '" + stableName + "' lost " + MAX_ATTEMPTS
                            + " races with concurrent registrations");
                }
            }
        }
    }

    /** One attempt: null if a concurrent registration changed what it read. */
    private ServerId tryRegister(String stableName, ServerInfo.Builder record) {
        String namePath = paths.serverName(stableName);
        Zk.Versioned previous = Zk.read(client, namePath);
        ServerId id;
        CuratorOp claim;
        CuratorOp bumpCounter = null;
        try {
            if (previous != null) {
                id = ServerId.of(NodeCodec.decodeLong(namePath, previous.data())).nextGeneration();
                claim = client.transactionOp().setData().withVersion(previous.version())
                        .forPath(namePath, NodeCodec.encodeLong(id.asLong()));
            } else {
                Zk.Versioned counter = Zk.read(client, paths.nextServerIndex());
                if (counter == null) {
                    throw new ClusterStoreException("counter " + paths.nextServerIndex() + " is missing");
                }
                long index = NodeCodec.decodeLong(paths.nextServerIndex(), counter.data());
                if (index > 0xFFFF_FFFFL) {
                    throw new ClusterStoreException("no free server index left");
                }
                id = new ServerId((int) index, 0);
                bumpCounter = client.transactionOp().setData().withVersion(counter.version())
                        .forPath(paths.nextServerIndex(), NodeCodec.encodeLong(index + 1));
                claim = client.transactionOp().create().forPath(namePath, NodeCodec.encodeLong(id.asLong()));
            }
            byte[] info = record.setServerId(id.asLong()).build().toByteArray();
            CuratorOp createRecord = client.transactionOp().create().forPath(paths.server(id.asLong()), info);
            CuratorOp createLiveness = client.transactionOp().create().withMode(CreateMode.EPHEMERAL)
                    .forPath(paths.live(id.asLong()), new byte[0]);
            List<CuratorOp> ops = bumpCounter == null
                    ? List.of(claim, createRecord, createLiveness)
                    : List.of(bumpCounter, claim, createRecord, createLiveness);
            Zk.commit(client, "register " + stableName, ops);
            return id;
        } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException e) {
            return null;
        } catch (KeeperException e) {
            throw new ClusterStoreException("register '" + stableName + "': " + e.getMessage(), e);
        } catch (ClusterStoreException e) {
            throw e;
        } catch (Exception e) {
            // transactionOp().forPath declares Exception but only builds an operation locally.
            throw new ClusterStoreException("register '" + stableName + "': " + e, e);
        }
    }

    /**
     * Takes the server back into the cluster under the id it registered with, after its session
     * expired (issue 9, I5). One transaction, against the versions as read:
     * <ul>
     *   <li>{@code server-names/<name>} still names this id (no newer generation registered:
     *       that would mean the process was restarted elsewhere under this name);</li>
     *   <li>{@code servers/<id>} is UP, and is set to UP again (bumping its version). Any other
     *       status means the cluster has given up on this server: CRASHED (the failure detector
     *       writes it only once this server's lease has expired, and recovery may then reassign
     *       its tablets at once: CRASHED is final), REMOVED, or a recovery's mark. The server is
     *       then {@link Rejoin#DEPOSED}. A rejoin and a declaration racing are ordered by the
     *       record's version: exactly one of them commits;</li>
     *   <li>the ephemeral {@code live/<id>} is created in this session (a node left by the
     *       previous session, which may outlive the client's own view of it, is deleted first).</li>
     * </ul>
     * A lost race (a version moved, a node appeared or vanished) reads again and retries.
     * Idempotent: a server already live in this session is simply confirmed UP.
     *
     * @return REJOINED, or DEPOSED if it must not serve under this id again
     * @throws IllegalStateException if it never registered
     * @throws ClusterStoreException if ZooKeeper could not be read or written, or this server's own
     *                               record is unreadable (it stays fenced; retry later)
     */
    public Rejoin rejoin() throws InterruptedException {
        synchronized (registrationLock) {
            ServerId id = registered;
            String stableName = registeredName;
            if (id == null || stableName == null) {
                throw new IllegalStateException("not registered: nothing to rejoin");
            }
            for (int attempt = 1; ; attempt++) {
                if (Thread.interrupted()) {
                    throw new InterruptedException("rejoin of " + id + " interrupted");
                }
                Rejoin outcome = tryRejoin(id, stableName);
                if (outcome == Rejoin.REJOINED) {
                    leaseLost = false;
                    LOG.info("server {} ('{}') rejoined the cluster under its id", id, stableName);
                    return outcome;
                }
                if (outcome == Rejoin.DEPOSED) {
                    return outcome;
                }
                if (attempt == MAX_ATTEMPTS) {
                    throw new ClusterStoreException("rejoin of " + id + " lost " + MAX_ATTEMPTS + " races");
                }
            }
        }
    }

    /** One attempt: null if something changed between the reads and the transaction. */
    private Rejoin tryRejoin(ServerId id, String stableName) {
        String recordPath = paths.server(id.asLong());
        String namePath = paths.serverName(stableName);
        String livePath = paths.live(id.asLong());
        Zk.Versioned record = Zk.read(client, recordPath);
        if (record == null) {
            return deposed(id, "its record " + recordPath + " is gone");
        }
        ServerInfo info;
        try {
            info = NodeCodec.decodeServer(recordPath, record.data());
        } catch (ClusterStoreException e) {
            malformed.skipped(recordPath, record.version(), "data is not a ServerInfo");
            throw new ClusterStoreException("rejoin of " + id + ": its record does not decode; staying fenced", e);
        }
        if (info.getServerId() != id.asLong()) {
            malformed.skipped(recordPath, record.version(), "record names another server");
            throw new ClusterStoreException("rejoin of " + id + ": its record names server "
                    + ServerId.of(info.getServerId()) + "; staying fenced");
        }
        if (info.getStatus() != ServerStatus.UP) {
            // CRASHED is final: it is written only once this server's lease expired, and recovery
            // may have started reassigning its tablets as soon as it saw it.
            return deposed(id, "its record is " + info.getStatus());
        }
        Zk.Versioned name = Zk.read(client, namePath);
        if (name == null) {
            return deposed(id, "its stable name '" + stableName + "' is no longer registered");
        }
        long newest = NodeCodec.decodeLong(namePath, name.data());
        if (newest != id.asLong()) {
            return deposed(id, "generation " + ServerId.of(newest) + " registered under '" + stableName + "'");
        }
        try {
            long session = client.getZookeeperClient().getZooKeeper().getSessionId();
            Stat live = Zk.keeper("check " + livePath,
                    () -> client.checkExists().forPath(livePath));
            List<CuratorOp> ops = new ArrayList<>();
            ops.add(client.transactionOp().check().withVersion(name.version()).forPath(namePath));
            ops.add(client.transactionOp().setData().withVersion(record.version())
                    .forPath(recordPath, info.toBuilder().setStatus(ServerStatus.UP).build().toByteArray()));
            if (live == null || live.getEphemeralOwner() != session) {
                if (live != null) {
                    ops.add(client.transactionOp().delete().withVersion(live.getVersion()).forPath(livePath));
                }
                ops.add(client.transactionOp().create().withMode(CreateMode.EPHEMERAL).forPath(livePath, new byte[0]));
            }
            Zk.commit(client, "rejoin " + id, ops);
            return Rejoin.REJOINED;
        } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException
                | KeeperException.NoNodeException e) {
            return null;
        } catch (KeeperException e) {
            throw new ClusterStoreException("rejoin " + id + ": " + e.getMessage(), e);
        } catch (ClusterStoreException e) {
            throw e;
        } catch (Exception e) {
            throw new ClusterStoreException("rejoin " + id + ": " + e, e);
        }
    }

    private static Rejoin deposed(ServerId id, String why) {
        LOG.warn("server {} cannot rejoin under its id: {}", id, why);
        return Rejoin.DEPOSED;
    }

    /**
     * The tablets ZooKeeper names this server the owner of, state NORMAL, read directly (not from
     * the cache), so a caller sees everything committed before its own last write in this
     * session, e.g. a table dropped while it was away, once {@link #rejoin} returned. Malformed
     * nodes are skipped and make the answer say which tables it cannot be sure about.
     */
    public OwnedTablets ownedTablets(ServerId owner) {
        Map<Long, List<io.ferrite.coordinator.table.HashRange>> ranges = new HashMap<>();
        Set<Long> tables = new HashSet<>();
        Set<Long> unclear = new HashSet<>();
        boolean unknownTables = false;
        for (String node : Zk.children(client, paths.tables())) {
            String tablePath = paths.tables() + "/" + node;
            Zk.Versioned table = Zk.read(client, tablePath);
            if (table == null) {
                continue; // dropped since the listing
            }
            long tableId;
            try {
                tableId = NodeCodec.decodeTable(tablePath, table.data()).getTableId();
            } catch (ClusterStoreException e) {
                malformed.skipped(tablePath, table.version(), "data is not a TableInfo");
                unknownTables = true;
                continue;
            }
            if (tableId == 0) {
                malformed.skipped(tablePath, table.version(), "table id 0");
                unknownTables = true;
                continue;
            }
            tables.add(tableId);
            for (String tabletNode : Zk.children(client, tablePath)) {
                String tabletPath = tablePath + "/" + tabletNode;
                Zk.Versioned data = Zk.read(client, tabletPath);
                if (data == null) {
                    continue;
                }
                Tablet tablet;
                try {
                    tablet = NodeCodec.decodeTablet(tabletPath, data.data());
                    if (tablet.getOwnerId() == owner.asLong() && tablet.getState() == TabletState.NORMAL) {
                        ranges.computeIfAbsent(tableId, t -> new ArrayList<>())
                                .add(new HashRange(tablet.getStartHash(), tablet.getEndHash()));
                    }
                } catch (ClusterStoreException | IllegalArgumentException e) {
                    malformed.skipped(tabletPath, data.version(), "data is not a Tablet");
                    unclear.add(tableId);
                }
            }
        }
        return new OwnedTablets(ranges, tables, unclear, unknownTables);
    }

    private static void checkArguments(String stableName, String address, Collection<String> services) {
        if (stableName == null || stableName.isEmpty()) {
            throw new IllegalArgumentException("stable name must not be empty");
        }
        if (stableName.getBytes(StandardCharsets.UTF_8).length > MAX_STABLE_NAME_BYTES) {
            throw new IllegalArgumentException("stable name is longer than " + MAX_STABLE_NAME_BYTES + " bytes");
        }
        if (address == null || address.isEmpty() || address.lastIndexOf(':') <= 0) {
            throw new IllegalArgumentException("address must be host:port, got '" + address + "'");
        }
        try {
            int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
            if (port < 1 || port > 65_535) {
                throw new IllegalArgumentException("address " + address + ": port outside 1..65535");
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("address must be host:port, got '" + address + "'", e);
        }
        if (services == null || services.isEmpty()) {
            throw new IllegalArgumentException("a server must run at least one service");
        }
        for (String service : services) {
            if (service == null || service.isEmpty()) {
                throw new IllegalArgumentException("service names must not be empty");
            }
        }
    }

    /** The id this registry registered under, whether or not its lease holds now. */
    public Optional<ServerId> registeredId() {
        return Optional.ofNullable(registered);
    }

    /** The malformed nodes this registry skipped (tests and metrics). */
    public MalformedNodes malformed() {
        return malformed;
    }

    /** The view's malformed nodes (the cached server list skips them). */
    public MalformedNodes viewMalformed() {
        return view.malformed();
    }

    /** This server's id, if it registered and its lease still holds. */
    public Optional<ServerId> serverId() {
        ServerId id = registered;
        return id == null || leaseLost ? Optional.empty() : Optional.of(id);
    }

    /**
     * Whether this server may keep serving: it registered, and its ZooKeeper session (which
     * holds the liveness node) is connected and has not expired.
     */
    public boolean isLeaseValid() {
        return registered != null && !leaseLost && client.getZookeeperClient().isConnected();
    }

    /**
     * Runs {@code onLost} (on Curator's event thread) when the session holding the liveness node
     * is lost: the cluster may hand its tablets to others once it stops heartbeating, so it must
     * stop serving until it has rejoined.
     */
    public void addLeaseListener(Runnable onLost) {
        leaseListeners.add(onLost);
    }

    /** The cached server list, every generation ever registered, ordered by id. */
    public List<ServerInfo> servers() {
        return view.servers();
    }

    /** One server's cached record. */
    public Optional<ServerInfo> server(ServerId id) {
        return view.server(id.asLong());
    }

    /** Whether the server's liveness node exists (in the cached view). */
    public boolean isLive(ServerId id) {
        return view.isLive(id.asLong());
    }

    /** {@code host:port} of the leader coordinator as the cached leader latch shows it, if any. */
    public Optional<String> leaderCoordinator() {
        return view.latchLeader();
    }

    /** {@code host:port} of every running coordinator (cached): the cluster address clients use. */
    public List<String> coordinators() {
        return view.coordinators();
    }

    /**
     * Waits until the cached server list satisfies {@code condition}.
     *
     * @return whether it did before {@code timeout}
     */
    public boolean awaitServers(Predicate<List<ServerInfo>> condition, Duration timeout)
            throws InterruptedException {
        return view.await(() -> condition.test(view.servers()), timeout);
    }

    public void addListener(ServerListListener listener) {
        ClusterView.Listener adapter = new ClusterView.Listener() {
            @Override
            public void serverChanged(ServerInfo server) {
                listener.serverChanged(server);
            }
        };
        if (serverListeners.putIfAbsent(listener, adapter) == null) {
            view.addListener(adapter);
        }
    }

    public void removeListener(ServerListListener listener) {
        ClusterView.Listener adapter = serverListeners.remove(listener);
        if (adapter != null) {
            view.removeListener(adapter);
        }
    }

    private void connectionStateChanged(CuratorFramework ignored, ConnectionState state) {
        if (state == ConnectionState.LOST && registered != null && !leaseLost) {
            leaseLost = true;
            LOG.warn("server {}: ZooKeeper session lost; not serving until it has rejoined", registered);
            for (Runnable listener : leaseListeners) {
                try {
                    listener.run();
                } catch (RuntimeException e) {
                    LOG.warn("lease listener failed", e);
                }
            }
        }
    }

    /**
     * Stops watching and, if this registry opened its own session, ends it, which removes the
     * liveness node at once (the leader probes the server and, its heartbeats having stopped too,
     * declares it CRASHED once its lease has expired: a clean stop is a crash for the cluster).
     */
    @Override
    public void close() {
        client.getConnectionStateListenable().removeListener(connectionListener);
        view.close();
        if (ownsClient) {
            client.close();
        } else if (registered != null && !leaseLost) {
            try {
                Zk.keeper("delete liveness node", () -> client.delete().forPath(paths.live(registered.asLong())));
            } catch (KeeperException e) {
                LOG.debug("liveness node of {} already gone: {}", registered, e.getMessage());
            } catch (ClusterStoreException e) {
                LOG.warn("could not delete the liveness node of {}", registered, e);
            }
        }
    }
}
