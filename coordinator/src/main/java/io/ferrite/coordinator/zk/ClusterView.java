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

    /** Every server record, ordered by server id. */
    public List<ServerInfo> servers() {
        List<ServerInfo> servers = new ArrayList<>();
        for (ChildData node : children(paths.servers())) {
            servers.add(NodeCodec.decodeServer(node.getPath(), node.getData()));
        }
        servers.sort(Comparator.comparingLong(ServerInfo::getServerId));
        return servers;
    }

    public Optional<ServerInfo> server(long serverId) {
        return cache.get(paths.server(serverId))
                .map(node -> NodeCodec.decodeServer(node.getPath(), node.getData()));
    }

    /** Whether the server's liveness node exists. */
    public boolean isLive(long serverId) {
        return cache.get(paths.live(serverId)).isPresent();
    }

    /** Every table, ordered by id. */
    public List<TableInfo> tables() {
        List<TableInfo> tables = new ArrayList<>();
        for (ChildData node : children(paths.tables())) {
            tables.add(NodeCodec.decodeTable(node.getPath(), node.getData()));
        }
        tables.sort(Comparator.comparingLong(TableInfo::getTableId));
        return tables;
    }

    public Optional<TableInfo> table(String name) {
        return cache.get(paths.table(name)).map(node -> NodeCodec.decodeTable(node.getPath(), node.getData()));
    }

    public Optional<TableInfo> table(long tableId) {
        for (TableInfo table : tables()) {
            if (table.getTableId() == tableId) {
                return Optional.of(table);
            }
        }
        return Optional.empty();
    }

    /** The table's tablets ordered by start hash (unsigned), owner addresses not filled in. */
    public List<Tablet> tablets(String tableName) {
        List<Tablet> tablets = new ArrayList<>();
        for (ChildData node : children(paths.table(tableName))) {
            tablets.add(NodeCodec.decodeTablet(node.getPath(), node.getData()));
        }
        tablets.sort((a, b) -> Long.compareUnsigned(a.getStartHash(), b.getStartHash()));
        return tablets;
    }

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
            ServerInfo server = NodeCodec.decodeServer(path, after.getData());
            for (Listener listener : listeners) {
                listener.serverChanged(server);
            }
        } else if (parts[0].equals(ClusterPaths.LIVE) && type == CuratorCacheListener.Type.NODE_DELETED) {
            long serverId = ClusterPaths.parseServerNode(parts[1]);
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
