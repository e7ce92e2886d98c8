package io.ferrite.coordinator.zk;

import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.TableInfo;
import io.ferrite.proto.v1.Tablet;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A locally cached, eventually consistent copy of one cluster's ZooKeeper subtree (a Curator
 * {@link CuratorCache} over {@code /ferrite/<cluster>}), with typed reads and change events.
 * Reads never touch the network; they may lag ZooKeeper by the time a watch takes to fire.
 * Callers that need to see their own write wait for it with {@link #await}.
 *
 * <p>Bad metadata is contained (issue 9, I6): a node whose name does not parse, whose data does
 * not decode, or whose record contradicts its name is left out of every answer and reported once
 * ({@link MalformedNodes}); reads never throw because of what another process wrote.
 */
public final class ClusterView implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterView.class);

    /** Typed change events; called on the cache's event thread, so implementations must not block. */
    public interface Listener {
        /** A server record appeared or changed. */
        default void serverChanged(ServerInfo server) {
        }

        /** A server's liveness node disappeared. */
        default void livenessLost(long serverId) {
        }
    }

    private final ClusterPaths paths;
    private final CuratorCache cache;
    private final String rootPrefix;
    private final CountDownLatch initialized = new CountDownLatch(1);
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final ReentrantLock changeLock = new ReentrantLock();
    private final Condition changed = changeLock.newCondition();
    private final MalformedNodes malformed = new MalformedNodes("cluster view");

    public ClusterView(CuratorFramework client, ClusterPaths paths) {
        this.paths = paths;
        this.rootPrefix = paths.root() + "/";
        this.cache = CuratorCache.build(client, paths.root());
    }

    /**
     * Starts the cache and waits until it holds the whole subtree.
     *
     * @throws ClusterStoreException if that takes longer than {@code timeout}
     */
    public void start(Duration timeout) throws InterruptedException {
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forAll(this::onEvent)
                .forInitialized(initialized::countDown)
                .build());
        cache.start();
        if (!initialized.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new ClusterStoreException("the cache of " + paths.root() + " did not fill within " + timeout);
        }
    }

    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    public void removeListener(Listener listener) {
        listeners.remove(listener);
    }

    public ClusterPaths paths() {
        return paths;
    }

    /**
     * Waits until {@code condition} holds, re-checking after every change to the cache.
     *
     * @return whether it held before {@code timeout} ran out
     */
    public boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadlineNs = System.nanoTime() + timeout.toNanos();
        changeLock.lock();
        try {
            while (!condition.getAsBoolean()) {
                long leftNs = deadlineNs - System.nanoTime();
                if (leftNs <= 0) {
                    return false;
                }
                changed.awaitNanos(leftNs);
            }
            return true;
        } finally {
            changeLock.unlock();
        }
    }

    /** Every well-formed server record, ordered by server id (malformed ones are skipped and reported). */
    public List<ServerInfo> servers() {
        List<ServerInfo> servers = new ArrayList<>();
        for (ChildData node : children(paths.servers())) {
            ServerInfo server = decodeServer(node);
            if (server != null) {
                servers.add(server);
            }
        }
        servers.sort((a, b) -> Long.compareUnsigned(a.getServerId(), b.getServerId()));
        return servers;
    }

    /** One server's record; empty if there is none or it is malformed. */
    public Optional<ServerInfo> server(long serverId) {
        return cache.get(paths.server(serverId)).map(this::decodeServer);
    }

    /** The malformed nodes this view skipped (tests and metrics). */
    public MalformedNodes malformed() {
        return malformed;
    }

    /** The record, or null (reported) if its name, data or id is not that of a server record. */
    private ServerInfo decodeServer(ChildData node) {
        String path = node.getPath();
        String name = path.substring(path.lastIndexOf('/') + 1);
        long id = ClusterPaths.tryParseServerNode(name);
        if (id == 0) {
            malformed.skipped(path, version(node), "not a server id (<index>.<generation>)");
            return null;
        }
        ServerInfo server;
        try {
            server = NodeCodec.decodeServer(path, node.getData() == null ? new byte[0] : node.getData());
        } catch (ClusterStoreException e) {
            malformed.skipped(path, version(node), "data is not a ServerInfo");
            return null;
        }
        if (server.getServerId() != id) {
            malformed.skipped(path, version(node), "record names server " + ClusterPaths.serverNode(server.getServerId()));
            return null;
        }
        return server;
    }

    private static long version(ChildData node) {
        return node.getStat() == null ? -1 : node.getStat().getMzxid();
    }

    /** Whether the server's liveness node exists. */
    public boolean isLive(long serverId) {
        return cache.get(paths.live(serverId)).isPresent();
    }

    /** Every well-formed table, ordered by id (malformed ones are skipped and reported). */
    public List<TableInfo> tables() {
        List<TableInfo> tables = new ArrayList<>();
        for (ChildData node : children(paths.tables())) {
            TableInfo table = decodeTable(node);
            if (table != null) {
                tables.add(table);
            }
        }
        tables.sort(Comparator.comparingLong(TableInfo::getTableId));
        return tables;
    }

    public Optional<TableInfo> table(String name) {
        return cache.get(paths.table(name)).map(this::decodeTable);
    }

    public Optional<TableInfo> table(long tableId) {
        for (TableInfo table : tables()) {
            if (table.getTableId() == tableId) {
                return Optional.of(table);
            }
        }
        return Optional.empty();
    }

    /**
     * The table's well-formed tablets ordered by start hash (unsigned), owner addresses not
     * filled in; malformed ones are skipped and reported.
     */
    public List<Tablet> tablets(String tableName) {
        List<Tablet> tablets = new ArrayList<>();
        for (ChildData node : children(paths.table(tableName))) {
            String path = node.getPath();
            if (!isTabletNode(path.substring(path.lastIndexOf('/') + 1))) {
                malformed.skipped(path, version(node), "not a tablet node name (six digits)");
                continue;
            }
            try {
                Tablet tablet = NodeCodec.decodeTablet(path, node.getData() == null ? new byte[0] : node.getData());
                if (Long.compareUnsigned(tablet.getStartHash(), tablet.getEndHash()) > 0) {
                    malformed.skipped(path, version(node), "start hash above end hash");
                    continue;
                }
                tablets.add(tablet);
            } catch (ClusterStoreException e) {
                malformed.skipped(path, version(node), "data is not a Tablet");
            }
        }
        tablets.sort((a, b) -> Long.compareUnsigned(a.getStartHash(), b.getStartHash()));
        return tablets;
    }

    /** Whether {@code name} is a tablet node name: six digits. */
    public static boolean isTabletNode(String name) {
        if (name.length() != 6) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /** The table, or null (reported) if its data does not decode or contradicts its node name. */
    private TableInfo decodeTable(ChildData node) {
        String path = node.getPath();
        TableInfo table;
        try {
            table = NodeCodec.decodeTable(path, node.getData() == null ? new byte[0] : node.getData());
        } catch (ClusterStoreException e) {
            malformed.skipped(path, version(node), "data is not a TableInfo");
            return null;
        }
        String name = path.substring(path.lastIndexOf('/') + 1);
        if (table.getTableId() == 0 || !name.equals(ClusterPaths.escape(table.getName()))) {
            malformed.skipped(path, version(node), "record names table '" + table.getName() + "' (id "
                    + table.getTableId() + ")");
            return null;
        }
        return table;
    }

    /** Recoveries in progress, from their records (undecodable ones skipped and reported). */
    public List<io.ferrite.proto.v1.RecoveryStatus> recoveries() {
        List<io.ferrite.proto.v1.RecoveryStatus> out = new ArrayList<>();
        for (ChildData node : children(paths.recoveries())) {
            try {
                out.add(io.ferrite.proto.v1.RecoveryStatus.parseFrom(node.getData() == null ? new byte[0]
                        : node.getData()));
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                malformed.skipped(node.getPath(), version(node), "data is not a RecoveryStatus");
            }
        }
        out.sort(Comparator.comparingLong(io.ferrite.proto.v1.RecoveryStatus::getStartedAtMillis));
        return out;
    }

    /**
     * The leader coordinator's {@code host:port} as the cached leader latch shows it: the
     * participant whose latch node has the lowest sequence number (Curator's {@code LeaderLatch}
     * rule; its node's data is the participant id, which is the coordinator's address). Empty if
     * no coordinator takes part in the election. May lag the election by a watch's delay.
     */
    public Optional<String> latchLeader() {
        String best = null;
        long bestSequence = Long.MAX_VALUE;
        for (ChildData node : children(paths.leaderLatch())) {
            String path = node.getPath();
            int marker = path.lastIndexOf(LATCH_NAME);
            if (marker < 0 || node.getData() == null || node.getData().length == 0) {
                continue;
            }
            try {
                long sequence = Long.parseLong(path.substring(marker + LATCH_NAME.length()));
                if (sequence < bestSequence) {
                    bestSequence = sequence;
                    best = new String(node.getData(), StandardCharsets.UTF_8);
                }
            } catch (NumberFormatException e) {
                // Not a latch node.
            }
        }
        return Optional.ofNullable(best);
    }

    /** The cached coordinator epoch (the latest leader term's), 0 if unknown. */
    public long coordinatorEpoch() {
        Optional<ChildData> node = cache.get(paths.coordinatorEpoch());
        if (node.isEmpty() || node.get().getData() == null) {
            return 0;
        }
        try {
            return NodeCodec.decodeLong(paths.coordinatorEpoch(), node.get().getData());
        } catch (ClusterStoreException e) {
            malformed.skipped(paths.coordinatorEpoch(), version(node.get()), "data is not a UInt64Value");
            return 0;
        }
    }

    /** The name Curator's {@code LeaderLatch} gives its nodes, before the sequence number. */
    private static final String LATCH_NAME = "latch-";

    /** Addresses of the running coordinators, sorted. */
    public List<String> coordinators() {
        List<String> addresses = new ArrayList<>();
        for (ChildData node : children(paths.coordinators())) {
            addresses.add(new String(node.getData(), StandardCharsets.UTF_8));
        }
        addresses.sort(Comparator.naturalOrder());
        return addresses;
    }

    private List<ChildData> children(String parent) {
        String prefix = parent + "/";
        List<ChildData> children = new ArrayList<>();
        for (ChildData node : cache.stream().toList()) {
            String path = node.getPath();
            if (path.startsWith(prefix) && path.indexOf('/', prefix.length()) < 0) {
                children.add(node);
            }
        }
        return children;
    }

    private void onEvent(CuratorCacheListener.Type type, ChildData before, ChildData after) {
        try {
            dispatch(type, before, after);
        } catch (RuntimeException e) {
            LOG.warn("cluster view: could not handle {} of {}", type, after != null ? after.getPath() : before.getPath(),
                    e);
        }
        changeLock.lock();
        try {
            changed.signalAll();
        } finally {
            changeLock.unlock();
        }
    }

    private void dispatch(CuratorCacheListener.Type type, ChildData before, ChildData after) {
        ChildData node = after != null ? after : before;
        String path = node.getPath();
        if (!path.startsWith(rootPrefix)) {
            return;
        }
        String[] parts = path.substring(rootPrefix.length()).split("/");
        if (parts.length != 2) {
            return;
        }
        if (parts[0].equals(ClusterPaths.SERVERS) && type != CuratorCacheListener.Type.NODE_DELETED) {
            ServerInfo server = decodeServer(after);
            if (server == null) {
                return;
            }
            for (Listener listener : listeners) {
                listener.serverChanged(server);
            }
        } else if (parts[0].equals(ClusterPaths.LIVE) && type == CuratorCacheListener.Type.NODE_DELETED) {
            long serverId = ClusterPaths.tryParseServerNode(parts[1]);
            if (serverId == 0) {
                malformed.skipped(path, version(node), "not a server id (<index>.<generation>)");
                return;
            }
            for (Listener listener : listeners) {
                listener.livenessLost(serverId);
            }
        }
    }

    @Override
    public void close() {
        cache.close();
        changeLock.lock();
        try {
            changed.signalAll();
        } finally {
            changeLock.unlock();
        }
    }
}
