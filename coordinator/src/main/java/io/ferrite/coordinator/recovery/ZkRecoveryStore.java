package io.ferrite.coordinator.recovery;

import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.coordinator.zk.ClusterStoreException;
import io.ferrite.coordinator.zk.ClusterView;
import io.ferrite.coordinator.zk.MalformedNodes;
import io.ferrite.coordinator.zk.NodeCodec;
import io.ferrite.coordinator.zk.Zk;
import io.ferrite.proto.v1.RecoveryStatus;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.TableInfo;
import io.ferrite.proto.v1.Tablet;
import io.ferrite.proto.v1.TabletState;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.zookeeper.KeeperException;

/** {@link RecoveryStore} over ZooKeeper (layout: docs/zookeeper-layout.md). */
public final class ZkRecoveryStore implements RecoveryStore {
    private final CuratorFramework client;
    private final ClusterPaths paths;
    private final MalformedNodes malformed = new MalformedNodes("recovery");

    public ZkRecoveryStore(CuratorFramework client, ClusterPaths paths) {
        this.client = client;
        this.paths = paths;
    }

    @Override
    public List<Server> servers() {
        List<Server> out = new ArrayList<>();
        for (String node : Zk.children(client, paths.servers())) {
            long id = ClusterPaths.tryParseServerNode(node);
            if (id == 0) {
                continue;
            }
            String path = paths.server(id);
            Zk.Versioned record = Zk.read(client, path);
            if (record == null) {
                continue;
            }
            try {
                ServerInfo info = NodeCodec.decodeServer(path, record.data());
                if (info.getServerId() == id) {
                    out.add(new Server(id, info.getAddress(), Set.copyOf(info.getServicesList()), info.getStatus(),
                            record.version()));
                } else {
                    malformed.skipped(path, record.version(), "record names another server");
                }
            } catch (ClusterStoreException e) {
                malformed.skipped(path, record.version(), "data is not a ServerInfo");
            }
        }
        return out;
    }

    @Override
    public boolean isLive(long serverId) {
        Zk.Versioned record = Zk.read(client, paths.server(serverId));
        if (record == null || !Zk.exists(client, paths.live(serverId))) {
            return false;
        }
        try {
            return NodeCodec.decodeServer(paths.server(serverId), record.data()).getStatus() == ServerStatus.UP;
        } catch (ClusterStoreException e) {
            return false;
        }
    }

    @Override
    public List<StoredTablet> tablets() {
        List<StoredTablet> out = new ArrayList<>();
        for (String tableNode : Zk.children(client, paths.tables())) {
            String name = ClusterPaths.unescape(tableNode);
            String tablePath = paths.table(name);
            for (String node : Zk.children(client, tablePath)) {
                if (!ClusterView.isTabletNode(node)) {
                    continue;
                }
                String path = tablePath + "/" + node;
                Zk.Versioned data = Zk.read(client, path);
                if (data == null) {
                    continue;
                }
                try {
                    out.add(new StoredTablet(name, node, NodeCodec.decodeTablet(path, data.data()), data.version()));
                } catch (ClusterStoreException e) {
                    malformed.skipped(path, data.version(), "data is not a Tablet");
                }
            }
        }
        return out;
    }

    @Override
    public Set<Long> recoveries() {
        Set<Long> out = new HashSet<>();
        for (String node : Zk.children(client, paths.recoveries())) {
            long id = ClusterPaths.tryParseServerNode(node);
            if (id != 0) {
                out.add(id);
            }
        }
        return out;
    }

    @Override
    public boolean decide(Server crashed, List<StoredTablet> owned) {
        Zk.Versioned record = Zk.read(client, paths.server(crashed.id()));
        if (record == null || record.version() != crashed.version()) {
            return false;
        }
        ServerInfo info = NodeCodec.decodeServer(paths.server(crashed.id()), record.data());
        List<CuratorOp> ops = new ArrayList<>();
        try {
            ops.add(client.transactionOp().setData().withVersion(crashed.version()).forPath(paths.server(crashed.id()),
                    info.toBuilder().setStatus(ServerStatus.REMOVED).build().toByteArray()));
            ops.add(client.transactionOp().create().forPath(paths.recovery(crashed.id()),
                    RecoveryStatus.newBuilder().setMasterId(crashed.id()).setPhase("decided")
                            .setStartedAtMillis(System.currentTimeMillis()).build().toByteArray()));
            for (StoredTablet t : owned) {
                ops.add(setTablet(t, t.tablet().toBuilder().setState(TabletState.RECOVERING).setRecoveryMasterId(0)
                        .build()));
            }
        } catch (Exception e) {
            throw new ClusterStoreException("prepare the recovery decision: " + e, e);
        }
        return commit("decide the recovery of " + ClusterPaths.serverNode(crashed.id()), ops);
    }

    @Override
    public boolean split(StoredTablet tablet, List<Tablet> pieces) {
        String tablePath = paths.table(tablet.table());
        Zk.Versioned table = Zk.read(client, tablePath);
        if (table == null) {
            return false;
        }
        int next = 0;
        for (String node : Zk.children(client, tablePath)) {
            if (ClusterView.isTabletNode(node)) {
                next = Math.max(next, Integer.parseInt(node) + 1);
            }
        }
        TableInfo info = NodeCodec.decodeTable(tablePath, table.data());
        List<CuratorOp> ops = new ArrayList<>();
        try {
            ops.add(client.transactionOp().delete().withVersion(tablet.version()).forPath(tablePath + "/" + tablet.node()));
            for (Tablet piece : pieces) {
                ops.add(client.transactionOp().create().forPath(paths.tablet(tablet.table(), next++),
                        piece.toByteArray()));
            }
            ops.add(client.transactionOp().setData().withVersion(table.version()).forPath(tablePath,
                    info.toBuilder().setTabletCount(info.getTabletCount() + pieces.size() - 1).build().toByteArray()));
        } catch (Exception e) {
            throw new ClusterStoreException("prepare a tablet split: " + e, e);
        }
        return commit("split " + tablet.table() + "/" + tablet.node(), ops);
    }

    @Override
    public boolean assign(List<StoredTablet> tablets, long recoveryMasterId) {
        List<CuratorOp> ops = new ArrayList<>();
        for (StoredTablet t : tablets) {
            ops.add(setTablet(t, t.tablet().toBuilder().setRecoveryMasterId(recoveryMasterId).build()));
        }
        return commit("assign a recovery partition to " + ClusterPaths.serverNode(recoveryMasterId), ops);
    }

    @Override
    public boolean complete(List<StoredTablet> tablets, long newOwner, long segmentId, int offset) {
        List<CuratorOp> ops = new ArrayList<>();
        for (StoredTablet t : tablets) {
            ops.add(setTablet(t, t.tablet().toBuilder().setState(TabletState.NORMAL).setOwnerId(newOwner)
                    .setRecoveryMasterId(0).setCreationSegmentId(segmentId).setCreationOffset(offset).build()));
        }
        return commit("hand recovered tablets to " + ClusterPaths.serverNode(newOwner), ops);
    }

    @Override
    public void progress(RecoveryProgress progress) {
        byte[] data = RecoveryStatus.newBuilder().setMasterId(progress.masterId()).setPhase(progress.phase())
                .setPartitions(progress.partitions()).setPartitionsDone(progress.partitionsDone())
                .setBytesReplayed(progress.bytesReplayed()).setStartedAtMillis(progress.startedAtMillis()).build()
                .toByteArray();
        try {
            Zk.keeper("publish recovery progress", () -> client.setData().forPath(paths.recovery(progress.masterId()),
                    data));
        } catch (KeeperException.NoNodeException e) {
            // Not decided yet, or finished: nothing to publish into.
        } catch (KeeperException e) {
            throw new ClusterStoreException("publish recovery progress: " + e.getMessage(), e);
        }
    }

    @Override
    public void finish(long masterId) {
        try {
            Zk.keeper("finish the recovery of " + ClusterPaths.serverNode(masterId),
                    () -> client.delete().forPath(paths.recovery(masterId)));
        } catch (KeeperException.NoNodeException e) {
            // Finished before (a retried step).
        } catch (KeeperException e) {
            throw new ClusterStoreException("finish the recovery: " + e.getMessage(), e);
        }
    }

    private CuratorOp setTablet(StoredTablet t, Tablet updated) {
        try {
            return client.transactionOp().setData().withVersion(t.version())
                    .forPath(paths.table(t.table()) + "/" + t.node(), updated.toByteArray());
        } catch (Exception e) {
            throw new ClusterStoreException("prepare a tablet update: " + e, e);
        }
    }

    private boolean commit(String what, List<CuratorOp> ops) {
        if (ops.isEmpty()) {
            return true;
        }
        try {
            Zk.commit(client, what, ops);
            return true;
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException
                 | KeeperException.NodeExistsException e) {
            return false;
        } catch (KeeperException e) {
            throw new ClusterStoreException(what + ": " + e.getMessage(), e);
        }
    }
}
