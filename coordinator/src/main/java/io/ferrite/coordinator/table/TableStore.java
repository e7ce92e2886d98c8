package io.ferrite.coordinator.table;

import com.google.protobuf.ByteString;
import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.coordinator.zk.ClusterStoreException;
import io.ferrite.coordinator.zk.MalformedNodes;
import io.ferrite.coordinator.zk.NodeCodec;
import io.ferrite.coordinator.zk.Zk;
import io.ferrite.proto.v1.TableInfo;
import io.ferrite.proto.v1.Tablet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.zookeeper.KeeperException;

/**
 * Reads and writes tables in ZooKeeper directly (not through the cache): the leader's view
 * of the truth. Every multi-node change is one ZooKeeper transaction; what cannot be (the
 * calls to masters) is tracked by marker nodes so that any leader can finish it:
 * {@code creating/<name>/<tablet>} until the tablet's owner confirmed TakeTablets, and
 * {@code dropping/<table id>/<server>} until the owner confirmed DropTableData.
 */
public final class TableStore {
    /** Attempts of a transaction that raced with another writer (a second leader, briefly). */
    private static final int MAX_ATTEMPTS = 16;

    private final CuratorFramework client;
    private final ClusterPaths paths;
    private final MalformedNodes malformed = new MalformedNodes("table store");

    public TableStore(CuratorFramework client, ClusterPaths paths) {
        this.client = client;
        this.paths = paths;
    }

    /** A tablet node as read, with the version for compare-and-set. */
    public record StoredTablet(String node, Tablet tablet, int version) {
    }

    /**
     * A table as read from ZooKeeper.
     *
     * @param pending tablet nodes whose owners have not confirmed TakeTablets yet
     */
    public record StoredTable(TableInfo info, int version, List<StoredTablet> tablets, Set<String> pending) {
        public String name() {
            return info.getName();
        }

        public long id() {
            return info.getTableId();
        }
    }

    public Optional<StoredTable> read(String name) {
        String tablePath = paths.table(name);
        Zk.Versioned table = Zk.read(client, tablePath);
        if (table == null) {
            return Optional.empty();
        }
        List<StoredTablet> tablets = new ArrayList<>();
        for (String node : Zk.children(client, tablePath)) {
            String path = tablePath + "/" + node;
            Zk.Versioned tablet = Zk.read(client, path);
            if (tablet != null) {
                tablets.add(new StoredTablet(node, NodeCodec.decodeTablet(path, tablet.data()), tablet.version()));
            }
        }
        tablets.sort((a, b) -> Long.compareUnsigned(a.tablet().getStartHash(), b.tablet().getStartHash()));
        Set<String> pending = new HashSet<>(Zk.children(client, paths.creating(name)));
        return Optional.of(new StoredTable(NodeCodec.decodeTable(tablePath, table.data()), table.version(),
                List.copyOf(tablets), Set.copyOf(pending)));
    }

    /**
     * Creates the table with a fresh id, its tablets, and a creating marker per tablet, in one
     * transaction.
     *
     * @param tablets     the tablets in hash order, table id not set
     * @param createToken the creating request's token, stored with the table (may be empty)
     * @return the new table's id, or empty if a table of that name exists
     */
    public OptionalLong create(String name, List<Tablet> tablets, ByteString createToken) {
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            Zk.Versioned counter = Zk.read(client, paths.nextTableId());
            if (counter == null) {
                throw new ClusterStoreException("counter " + paths.nextTableId() + " is missing");
            }
            long id = NodeCodec.decodeLong(paths.nextTableId(), counter.data());
            TableInfo info = TableInfo.newBuilder().setName(name).setTableId(id).setTabletCount(tablets.size())
                    .setCreateToken(createToken).build();
            try {
                List<CuratorOp> ops = new ArrayList<>();
                ops.add(client.transactionOp().setData().withVersion(counter.version())
                        .forPath(paths.nextTableId(), NodeCodec.encodeLong(id + 1)));
                ops.add(client.transactionOp().create().forPath(paths.table(name), info.toByteArray()));
                ops.add(client.transactionOp().create().forPath(paths.creating(name), NodeCodec.encodeLong(id)));
                for (int i = 0; i < tablets.size(); i++) {
                    Tablet tablet = tablets.get(i).toBuilder().setTableId(id).build();
                    ops.add(client.transactionOp().create().forPath(paths.tablet(name, i), tablet.toByteArray()));
                    ops.add(client.transactionOp().create()
                            .forPath(paths.creating(name, ClusterPaths.tabletNode(i)), NodeCodec.encodeLong(id)));
                }
                Zk.commit(client, "create table " + name, ops);
                return OptionalLong.of(id);
            } catch (KeeperException.BadVersionException e) {
                // The counter moved under us (another leader, for a moment): read it again.
            } catch (KeeperException.NodeExistsException e) {
                if (Zk.exists(client, paths.table(name))) {
                    return OptionalLong.empty();
                }
                // A leftover creating marker without its table: clear it and try again.
                deleteTree(paths.creating(name));
            } catch (KeeperException e) {
                throw new ClusterStoreException("create table " + name + ": " + e.getMessage(), e);
            } catch (ClusterStoreException e) {
                throw e;
            } catch (Exception e) {
                throw new ClusterStoreException("create table " + name + ": " + e, e);
            }
        }
        throw new ClusterStoreException("create table " + name + ": lost " + MAX_ATTEMPTS + " races on the table id");
    }

    /**
     * Records where the owner's log stood when it took a tablet and clears the tablet's
     * creating marker, in one transaction (a no-op if the marker is already gone).
     *
     * @return false if the tablet changed or disappeared since it was read
     */
    public boolean recordCreation(String name, StoredTablet tablet, long segmentId, int offset) {
        Tablet updated = tablet.tablet().toBuilder().setCreationSegmentId(segmentId).setCreationOffset(offset).build();
        String marker = paths.creating(name, tablet.node());
        try {
            Zk.commit(client, "record creation of " + name + "/" + tablet.node(), List.of(
                    client.transactionOp().setData().withVersion(tablet.version())
                            .forPath(paths.table(name) + "/" + tablet.node(), updated.toByteArray()),
                    client.transactionOp().delete().forPath(marker)));
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
            return false;
        } catch (KeeperException e) {
            throw new ClusterStoreException("record creation of " + name + ": " + e.getMessage(), e);
        } catch (ClusterStoreException e) {
            throw e;
        } catch (Exception e) {
            throw new ClusterStoreException("record creation of " + name + ": " + e, e);
        }
        deleteIfEmpty(paths.creating(name));
        return true;
    }

    /** Removes the creating markers of a table that no longer exists (left by an interrupted drop). */
    public void clearCreating(String name) {
        if (!Zk.exists(client, paths.table(name))) {
            deleteTree(paths.creating(name));
        }
    }

    /** Names of tables with tablets not yet confirmed by their owners. */
    public List<String> pendingCreates() {
        List<String> names = new ArrayList<>();
        for (String node : Zk.children(client, paths.creating())) {
            names.add(ClusterPaths.unescape(node));
        }
        return names;
    }

    /**
     * Deletes the table, its tablets and creating markers, and leaves a dropping marker per
     * owner, in one transaction.
     *
     * @return false if the table changed or disappeared since it was read
     */
    public boolean drop(StoredTable table) {
        String name = table.name();
        Set<Long> owners = new LinkedHashSet<>();
        try {
            List<CuratorOp> ops = new ArrayList<>();
            for (String node : table.pending()) {
                ops.add(client.transactionOp().delete().forPath(paths.creating(name, node)));
            }
            if (Zk.exists(client, paths.creating(name))) {
                ops.add(client.transactionOp().delete().forPath(paths.creating(name)));
            }
            for (StoredTablet tablet : table.tablets()) {
                ops.add(client.transactionOp().delete().withVersion(tablet.version())
                        .forPath(paths.table(name) + "/" + tablet.node()));
                owners.add(tablet.tablet().getOwnerId());
            }
            ops.add(client.transactionOp().delete().withVersion(table.version()).forPath(paths.table(name)));
            ops.add(client.transactionOp().create().forPath(paths.dropping(table.id()), table.info().toByteArray()));
            for (long owner : owners) {
                ops.add(client.transactionOp().create()
                        .forPath(paths.dropping(table.id(), owner), table.info().toByteArray()));
            }
            Zk.commit(client, "drop table " + name, ops);
            return true;
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException
                | KeeperException.NotEmptyException e) {
            return false;
        } catch (KeeperException e) {
            throw new ClusterStoreException("drop table " + name + ": " + e.getMessage(), e);
        } catch (ClusterStoreException e) {
            throw e;
        } catch (Exception e) {
            throw new ClusterStoreException("drop table " + name + ": " + e, e);
        }
    }

    /** Ids of dropped tables whose data some owner has not confirmed dropping. */
    public List<Long> pendingDrops() {
        List<Long> ids = new ArrayList<>();
        for (String node : Zk.children(client, paths.dropping())) {
            try {
                long id = Long.parseUnsignedLong(node);
                if (id != 0 && Long.toUnsignedString(id).equals(node)) {
                    ids.add(id);
                    continue;
                }
            } catch (NumberFormatException e) {
                // Reported below.
            }
            malformed.skipped(paths.dropping() + "/" + node, -1, "not a table id");
        }
        return ids;
    }

    /** Owners that still have to drop the table's data. */
    public List<Long> pendingDropOwners(long tableId) {
        List<Long> owners = new ArrayList<>();
        for (String node : Zk.children(client, paths.dropping(tableId))) {
            long owner = ClusterPaths.tryParseServerNode(node);
            if (owner == 0) {
                malformed.skipped(paths.dropping(tableId) + "/" + node, -1, "not a server id (<index>.<generation>)");
            } else {
                owners.add(owner);
            }
        }
        return owners;
    }

    /** The owner dropped the data (or is gone with it): clear its marker, and the table's when last. */
    public void dropConfirmed(long tableId, long ownerId) {
        try {
            Zk.keeper("clear drop marker", () -> client.delete().forPath(paths.dropping(tableId, ownerId)));
        } catch (KeeperException.NoNodeException e) {
            // Already cleared: nothing to do.
        } catch (KeeperException e) {
            throw new ClusterStoreException("clear drop marker: " + e.getMessage(), e);
        }
        deleteIfEmpty(paths.dropping(tableId));
    }

    private void deleteIfEmpty(String path) {
        try {
            Zk.keeper("delete " + path, () -> client.delete().forPath(path));
        } catch (KeeperException.NoNodeException | KeeperException.NotEmptyException e) {
            // Gone already, or still has work in it: both fine.
        } catch (KeeperException e) {
            throw new ClusterStoreException("delete " + path + ": " + e.getMessage(), e);
        }
    }

    private void deleteTree(String path) {
        try {
            Zk.keeper("delete " + path, () -> client.delete().deletingChildrenIfNeeded().forPath(path));
        } catch (KeeperException.NoNodeException e) {
            // Gone already.
        } catch (KeeperException e) {
            throw new ClusterStoreException("delete " + path + ": " + e.getMessage(), e);
        }
    }
}
