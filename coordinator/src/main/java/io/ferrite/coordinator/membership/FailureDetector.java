package io.ferrite.coordinator.membership;

import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.coordinator.zk.ClusterStoreException;
import io.ferrite.coordinator.zk.ClusterView;
import io.ferrite.coordinator.zk.MalformedNodes;
import io.ferrite.coordinator.zk.NodeCodec;
import io.ferrite.coordinator.zk.Zk;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's failure detector. A server is declared CRASHED when
 * <ul>
 *   <li>its ephemeral liveness node disappears (its ZooKeeper session ended: the process died,
 *       closed its registry, or stopped answering for a session timeout), or</li>
 *   <li>a newer generation of the same index registers (the server restarted: the old
 *       generation's memory is gone even if its session has not expired yet).</li>
 * </ul>
 * On becoming leader it also scans every record, to catch servers that died while no
 * coordinator was leader. Each change is a compare-and-set of the server's record, and only
 * while this coordinator is leader; recovery of the crashed server's tablets comes later.
 *
 * <p>CRASHED is not final: a server whose session expired rejoins under the same id by setting
 * its own record UP and re-creating its liveness node in one transaction
 * ({@code ServerRegistry.rejoin}), so the detector never sees a CRASHED record with a liveness
 * node and needs no reverse transition. Malformed records and node names are skipped (I6).
 *
 * <p>Cache events arrive on the cache thread; the ZooKeeper work runs on the leader's executor.
 */
public final class FailureDetector implements ClusterView.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(FailureDetector.class);
    private static final int MAX_ATTEMPTS = 16;

    private final CuratorFramework client;
    private final ClusterPaths paths;
    private final Executor executor;
    private final BooleanSupplier isLeader;
    private final MalformedNodes malformed = new MalformedNodes("failure detector");
    private volatile boolean active;

    public FailureDetector(CuratorFramework client, ClusterPaths paths, Executor executor, BooleanSupplier isLeader) {
        this.client = client;
        this.paths = paths;
        this.executor = executor;
        this.isLeader = isLeader;
    }

    /** Starts acting on events, after a full scan. */
    public void start() {
        active = true;
        executor.execute(() -> guarded("initial scan", this::scanAll));
    }

    public void stop() {
        active = false;
    }

    @Override
    public void livenessLost(long serverId) {
        if (active) {
            executor.execute(() -> guarded("liveness of " + ClusterPaths.serverNode(serverId),
                    () -> markCrashed(serverId, true, "its liveness node disappeared")));
        }
    }

    @Override
    public void serverChanged(ServerInfo server) {
        if (active && server.getStatus() == ServerStatus.UP && (int) server.getServerId() != 0) {
            executor.execute(() -> guarded("older generations of " + ClusterPaths.serverNode(server.getServerId()),
                    () -> crashOlderGenerations(server.getServerId())));
        }
    }

    /** Checks every record (on becoming leader, and periodically to retry what an error interrupted). */
    public void scan() {
        if (active) {
            guarded("scan", this::scanAll);
        }
    }

    private void scanAll() {
        Map<Long, Long> newestByIndex = new HashMap<>();
        Map<Long, ServerInfo> upServers = new HashMap<>();
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
            }
        }
        for (long id : upServers.keySet()) {
            if (newestByIndex.get(id >>> 32) != id) {
                markCrashed(id, false, "a newer generation registered");
            } else if (!Zk.exists(client, paths.live(id))) {
                markCrashed(id, true, "it has no liveness node");
            }
        }
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

    private void crashOlderGenerations(long serverId) {
        long index = serverId >>> 32;
        for (String node : Zk.children(client, paths.servers())) {
            long id = ClusterPaths.tryParseServerNode(node);
            if (id != 0 && id >>> 32 == index && Long.compareUnsigned(id, serverId) < 0) {
                markCrashed(id, false, "generation " + ClusterPaths.serverNode(serverId) + " replaced it");
            }
        }
    }

    /** Moves an UP record to CRASHED (compare-and-set); nothing if it is not UP any more. */
    private void markCrashed(long serverId, boolean onlyIfNotLive, String reason) {
        String path = paths.server(serverId);
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            if (!active || !isLeader.getAsBoolean()) {
                return;
            }
            Zk.Versioned record = Zk.read(client, path);
            if (record == null) {
                return;
            }
            ServerInfo server = decode(serverId, record);
            if (server == null || server.getStatus() != ServerStatus.UP) {
                return;
            }
            if (onlyIfNotLive && Zk.exists(client, paths.live(serverId))) {
                return;
            }
            byte[] crashed = server.toBuilder().setStatus(ServerStatus.CRASHED).build().toByteArray();
            try {
                Zk.keeper("mark " + path + " crashed",
                        () -> client.setData().withVersion(record.version()).forPath(path, crashed));
                LOG.warn("server {} at {} declared CRASHED: {}", ClusterPaths.serverNode(serverId),
                        server.getAddress(), reason);
                return;
            } catch (KeeperException.BadVersionException e) {
                // The record changed since we read it: look again.
            } catch (KeeperException.NoNodeException e) {
                return;
            } catch (KeeperException e) {
                throw new ClusterStoreException("mark " + path + " crashed: " + e.getMessage(), e);
            }
        }
    }

    private static void guarded(String what, Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            LOG.warn("failure detector: {} failed; the next event or leader election retries it", what, e);
        }
    }
}
