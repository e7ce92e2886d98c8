package io.ferrite.coordinator.snapshot;

import io.ferrite.coordinator.table.MasterControl;
import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.coordinator.zk.ClusterStoreException;
import io.ferrite.coordinator.zk.ClusterView;
import io.ferrite.coordinator.zk.NodeCodec;
import io.ferrite.coordinator.zk.Zk;
import io.ferrite.proto.v1.CreateSnapshotResponse;
import io.ferrite.proto.v1.DropSnapshotRequest;
import io.ferrite.proto.v1.DropSnapshotResponse;
import io.ferrite.proto.v1.DropTableSnapshotResponse;
import io.ferrite.proto.v1.ListSnapshotsResponse;
import io.ferrite.proto.v1.OwnedTablet;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.SnapshotInfo;
import io.ferrite.proto.v1.SnapshotState;
import io.ferrite.proto.v1.SnapshotTablet;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.TableInfo;
import io.ferrite.proto.v1.TabletState;
import io.ferrite.proto.v1.TakeSnapshotRequest;
import io.ferrite.proto.v1.TakeSnapshotResponse;
import io.ferrite.proto.v1.Tablet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's table snapshots. A snapshot of a table is one cut per master owning a tablet of
 * it ({@code ControlService.TakeSnapshot}); the coordinator records which master holds which
 * range and at which cut in {@code snapshots/<table id>/<snapshot id>} (a {@link SnapshotInfo}),
 * so clients read the snapshot from those masters whatever happens to the table's live tablets
 * afterwards (writes, a drop of the table).
 *
 * <p>Take: the record is written TAKING first, then every owner is asked in parallel; when all
 * answer OK it becomes COMPLETE with their cuts. If one fails, the others' parts are dropped,
 * the record deleted, and the answer is RETRY: no half snapshot is ever listed as whole.
 *
 * <p>Consistency across masters: each master's cut is atomic for its own tablets; cuts on
 * different masters are taken at nearly the same moment but not at one instant, so a
 * multi-write spanning masters that runs concurrently with the snapshot may be partly in it.
 * Every write acknowledged before the snapshot was asked for is in it; none started after it
 * returned is. (See docs/ARCHITECTURE.md, "Snapshots".)
 *
 * <p>A master crash loses its parts (snapshots are not yet rebuilt by recovery); the snapshot
 * is then listed LOST, never as complete.
 */
public final class SnapshotManager {
    /** Shortest autosave interval. */
    public static final long MIN_AUTOSAVE_INTERVAL_MS = 1_000;
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotManager.class);

    private final CuratorFramework client;
    private final ClusterPaths paths;
    private final ClusterView view;
    private final MasterControl masters;
    private final LongSupplier clockMillis;
    private final ReentrantLock lock = new ReentrantLock();

    public SnapshotManager(CuratorFramework client, ClusterPaths paths, ClusterView view, MasterControl masters,
                           LongSupplier clockMillis) {
        this.client = client;
        this.paths = paths;
        this.view = view;
        this.masters = masters;
        this.clockMillis = clockMillis;
    }

    /** Takes a snapshot of a table on request (leader only). */
    public CreateSnapshotResponse create(String tableName) {
        return create(tableName, false);
    }

    /**
     * Takes a snapshot of a table (leader only).
     *
     * @param automatic taken by autosave (its retention may drop it)
     */
    public CreateSnapshotResponse create(String tableName, boolean automatic) {
        lock.lock();
        long t0 = System.nanoTime();
        try {
            Optional<TableInfo> table = view.table(tableName);
            if (table.isEmpty()) {
                return CreateSnapshotResponse.newBuilder().setStatus(Status.TABLE_DOESNT_EXIST)
                        .setMessage("no table '" + tableName + "'").build();
            }
            long tableId = table.get().getTableId();
            Map<Long, List<Tablet>> byOwner = new LinkedHashMap<>();
            for (Tablet tablet : view.tablets(tableName)) {
                if (tablet.getState() != TabletState.NORMAL) {
                    return retry("table '" + tableName + "' has a tablet being recovered; try again when it is served");
                }
                byOwner.computeIfAbsent(tablet.getOwnerId(), o -> new ArrayList<>()).add(tablet);
            }
            if (byOwner.isEmpty()) {
                return retry("table '" + tableName + "' has no tablets yet");
            }
            SnapshotInfo.Builder info = SnapshotInfo.newBuilder().setTableId(tableId).setTableName(tableName)
                    .setCreatedAtMillis(clockMillis.getAsLong()).setState(SnapshotState.TAKING).setAutomatic(automatic);
            for (Map.Entry<Long, List<Tablet>> entry : byOwner.entrySet()) {
                for (Tablet tablet : entry.getValue()) {
                    info.addTablets(SnapshotTablet.newBuilder().setStartHash(tablet.getStartHash())
                            .setEndHash(tablet.getEndHash()).setServerId(entry.getKey()));
                }
            }
            long tId = System.nanoTime();
            long snapshotId = record(tableId, info);
            String node = paths.snapshot(tableId, snapshotId);
            long tRecorded = System.nanoTime();

            Map<Long, CompletableFuture<TakeSnapshotResponse>> calls = new LinkedHashMap<>();
            List<String> problems = new ArrayList<>();
            for (Map.Entry<Long, List<Tablet>> entry : byOwner.entrySet()) {
                Optional<ServerInfo> owner = view.server(entry.getKey());
                if (owner.isEmpty() || owner.get().getStatus() != ServerStatus.UP) {
                    problems.add("owner " + ClusterPaths.serverNode(entry.getKey()) + " is not up");
                    continue;
                }
                TakeSnapshotRequest.Builder request = TakeSnapshotRequest.newBuilder().setServerId(entry.getKey())
                        .setTableId(tableId).setSnapshotId(snapshotId);
                for (Tablet tablet : entry.getValue()) {
                    request.addTablets(OwnedTablet.newBuilder().setTableId(tableId).setStartHash(tablet.getStartHash())
                            .setEndHash(tablet.getEndHash()));
                }
                calls.put(entry.getKey(), masters.takeSnapshot(owner.get().getAddress(), request.build()));
            }
            Map<Long, TakeSnapshotResponse> taken = new LinkedHashMap<>();
            long tAsked = System.nanoTime();
            for (Map.Entry<Long, CompletableFuture<TakeSnapshotResponse>> call : calls.entrySet()) {
                String owner = ClusterPaths.serverNode(call.getKey());
                try {
                    TakeSnapshotResponse response = call.getValue().get();
                    if (response.getStatus() == Status.OK) {
                        taken.put(call.getKey(), response);
                    } else {
                        problems.add("master " + owner + " answered " + response.getStatus() + " "
                                + response.getMessage());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    problems.add("interrupted while waiting for " + owner);
                } catch (ExecutionException e) {
                    problems.add("master " + owner + " unreachable (" + e.getCause().getMessage() + ")");
                }
            }
            long tTaken = System.nanoTime();
            if (!problems.isEmpty()) {
                dropParts(tableId, snapshotId, taken.keySet());
                Zk.unchecked("delete snapshot " + node, () -> {
                    client.delete().forPath(node);
                    return null;
                });
                LOG.warn("snapshot of table '{}' not taken: {}", tableName, String.join("; ", problems));
                return retry("snapshot of table '" + tableName + "' not taken: " + String.join("; ", problems));
            }
            long objects = 0;
            long bytes = 0;
            for (TakeSnapshotResponse response : taken.values()) {
                objects += response.getObjects();
                bytes += response.getBytes();
            }
            for (int i = 0; i < info.getTabletsCount(); i++) {
                SnapshotTablet tablet = info.getTablets(i);
                info.setTablets(i, tablet.toBuilder().setCut(taken.get(tablet.getServerId()).getCut()));
            }
            SnapshotInfo complete = info.setState(SnapshotState.COMPLETE).setObjects(objects).setBytes(bytes).build();
            Zk.unchecked("complete snapshot " + node, () -> client.setData().forPath(node, complete.toByteArray()));
            long tDone = System.nanoTime();
            LOG.info("snapshot {} of table '{}' (id {}) taken on {} master(s): {} objects, {} bytes, in {} ms (checks {}"
                    + " ms, record {} ms, masters {} ms, complete {} ms)", snapshotId, tableName, tableId, taken.size(),
                    objects, bytes, ms(tDone - t0), ms(tId - t0), ms(tRecorded - tId), ms(tTaken - tAsked),
                    ms(tDone - tTaken));
            return CreateSnapshotResponse.newBuilder().setStatus(Status.OK).setSnapshot(withAddresses(complete)).build();
        } finally {
            lock.unlock();
        }
    }

    /** The snapshots of a table, oldest first (any coordinator may answer: ZooKeeper is read directly). */
    public ListSnapshotsResponse list(String tableName, long tableId) {
        long id = tableId;
        if (id == 0) {
            Optional<TableInfo> table = view.table(tableName);
            if (table.isEmpty()) {
                return ListSnapshotsResponse.newBuilder().setStatus(Status.TABLE_DOESNT_EXIST)
                        .setMessage("no table '" + tableName + "' (a dropped table's snapshots are listed by its id)")
                        .build();
            }
            id = table.get().getTableId();
        }
        ListSnapshotsResponse.Builder response = ListSnapshotsResponse.newBuilder().setStatus(Status.OK);
        for (String child : Zk.children(client, paths.snapshots(id))) {
            SnapshotInfo info = read(paths.snapshots(id) + "/" + child);
            if (info != null) {
                response.addSnapshots(withAddresses(info));
            }
        }
        return response.build();
    }

    /** Drops a snapshot (leader only): every holder still up forgets its part, then the record goes. */
    public DropTableSnapshotResponse drop(long tableId, long snapshotId) {
        lock.lock();
        try {
            String node = paths.snapshot(tableId, snapshotId);
            SnapshotInfo info = read(node);
            if (info == null) {
                return DropTableSnapshotResponse.newBuilder().setStatus(Status.SNAPSHOT_DOESNT_EXIST)
                        .setMessage("no snapshot " + snapshotId + " of table " + Long.toUnsignedString(tableId)).build();
            }
            List<Long> holders = info.getTabletsList().stream().map(SnapshotTablet::getServerId).distinct().toList();
            List<String> problems = dropParts(tableId, snapshotId, holders);
            if (!problems.isEmpty()) {
                return DropTableSnapshotResponse.newBuilder().setStatus(Status.RETRY)
                        .setMessage("snapshot " + snapshotId + " kept: " + String.join("; ", problems)).build();
            }
            Zk.unchecked("delete snapshot " + node, () -> {
                try {
                    client.delete().forPath(node);
                } catch (KeeperException.NoNodeException e) {
                    // Dropped meanwhile by another leader: the same outcome.
                }
                return null;
            });
            LOG.info("dropped snapshot {} of table {}", snapshotId, Long.toUnsignedString(tableId));
            return DropTableSnapshotResponse.newBuilder().setStatus(Status.OK).build();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Turns autosave of a table on or off (leader only).
     *
     * @param intervalMs 0: off; else at least 1,000
     */
    public io.ferrite.proto.v1.SetAutosaveResponse setAutosave(String tableName, long intervalMs, long budgetBytes) {
        var response = io.ferrite.proto.v1.SetAutosaveResponse.newBuilder();
        if (intervalMs != 0 && intervalMs < MIN_AUTOSAVE_INTERVAL_MS) {
            return response.setStatus(Status.INVALID_ARGUMENT).setMessage("interval_ms: " + intervalMs
                    + " is below the minimum of " + MIN_AUTOSAVE_INTERVAL_MS + " (0 turns autosave off)").build();
        }
        Optional<TableInfo> table = view.table(tableName);
        if (table.isEmpty()) {
            return response.setStatus(Status.TABLE_DOESNT_EXIST).setMessage("no table '" + tableName + "'").build();
        }
        String node = paths.autosave(table.get().getTableId());
        lock.lock();
        try {
            if (intervalMs == 0) {
                Zk.unchecked("turn autosave off at " + node, () -> {
                    try {
                        client.delete().forPath(node);
                    } catch (KeeperException.NoNodeException e) {
                        // Off already.
                    }
                    return null;
                });
                LOG.info("autosave of table '{}' off", tableName);
            } else {
                byte[] settings = io.ferrite.proto.v1.AutosaveSettings.newBuilder()
                        .setTableId(table.get().getTableId()).setIntervalMs(intervalMs).setBudgetBytes(budgetBytes)
                        .build().toByteArray();
                Zk.unchecked("set autosave at " + node, () -> {
                    try {
                        client.create().creatingParentsIfNeeded().forPath(node, settings);
                    } catch (KeeperException.NodeExistsException e) {
                        client.setData().forPath(node, settings);
                    }
                    return null;
                });
                LOG.info("autosave of table '{}' every {} ms, budget {} bytes", tableName, intervalMs, budgetBytes);
            }
        } finally {
            lock.unlock();
        }
        return response.setStatus(Status.OK).build();
    }

    /**
     * One autosave round (leader, periodically): for each table with autosave on, a snapshot
     * if the newest automatic one is at least its interval old, then the retention policy's
     * drops. A table that was dropped loses its autosave setting (its snapshots stay).
     *
     * @return snapshots taken and dropped in this round
     */
    public int[] runAutosave() {
        int taken = 0;
        int dropped = 0;
        for (String child : Zk.children(client, paths.autosaveRoot())) {
            String node = paths.autosaveRoot() + "/" + child;
            Zk.Versioned data = Zk.read(client, node);
            if (data == null) {
                continue;
            }
            io.ferrite.proto.v1.AutosaveSettings settings;
            try {
                settings = io.ferrite.proto.v1.AutosaveSettings.parseFrom(data.data());
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                LOG.warn("autosave node {} is malformed; ignored: {}", node, e.getMessage());
                continue;
            }
            Optional<TableInfo> table = view.table(settings.getTableId());
            if (table.isEmpty()) {
                Zk.unchecked("forget autosave of a dropped table at " + node, () -> {
                    try {
                        client.delete().forPath(node);
                    } catch (KeeperException.NoNodeException e) {
                        // Gone already.
                    }
                    return null;
                });
                continue;
            }
            List<SnapshotInfo> automatic = list(table.get().getName(), settings.getTableId()).getSnapshotsList()
                    .stream().filter(SnapshotInfo::getAutomatic).toList();
            long now = clockMillis.getAsLong();
            long newest = automatic.stream().mapToLong(SnapshotInfo::getCreatedAtMillis).max().orElse(Long.MIN_VALUE);
            if (automatic.isEmpty() || now - newest >= settings.getIntervalMs()) {
                CreateSnapshotResponse response = create(table.get().getName(), true);
                if (response.getStatus() == Status.OK) {
                    taken++;
                    automatic = new ArrayList<>(automatic);
                    automatic.add(response.getSnapshot());
                } else {
                    LOG.warn("autosave of table '{}': {} {}", table.get().getName(), response.getStatus(),
                            response.getMessage());
                }
            }
            long pinned = settings.getBudgetBytes() > 0 ? pinnedBytes(settings.getTableId(), automatic) : 0;
            java.util.Set<Long> drop = RetentionPolicy.toDrop(automatic.stream()
                    .map(s -> new RetentionPolicy.Taken(s.getSnapshotId(), java.time.Instant.ofEpochMilli(
                            s.getCreatedAtMillis()))).toList(), java.time.Instant.ofEpochMilli(now), pinned,
                    settings.getBudgetBytes());
            for (long id : drop) {
                DropTableSnapshotResponse response = drop(settings.getTableId(), id);
                if (response.getStatus() == Status.OK) {
                    dropped++;
                }
            }
        }
        return new int[] {taken, dropped};
    }

    /** Memory the table's snapshots pin on the masters holding them (those that answer). */
    private long pinnedBytes(long tableId, List<SnapshotInfo> snapshots) {
        long pinned = 0;
        List<Long> holders = snapshots.stream().flatMap(s -> s.getTabletsList().stream())
                .map(SnapshotTablet::getServerId).distinct().toList();
        for (long holder : holders) {
            Optional<ServerInfo> server = view.server(holder);
            if (server.isEmpty() || server.get().getStatus() != ServerStatus.UP) {
                continue;
            }
            try {
                pinned += masters.serverStats(server.get().getAddress()).get().getSnapshotKeptBytesOrDefault(tableId, 0);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return pinned;
            } catch (ExecutionException e) {
                LOG.debug("autosave: no statistics from {}: {}", server.get().getAddress(), e.getCause().toString());
            }
        }
        return pinned;
    }

    /**
     * Clears what a leader that died while taking a snapshot left (leader only, at the start of
     * its term): every TAKING record is such a leftover, since takes hold the same lock as this.
     * Its parts are dropped on the holders that are up and the record goes.
     *
     * @return the leftovers cleared
     */
    public int clearUnfinished() {
        lock.lock();
        try {
            int cleared = 0;
            for (String table : Zk.children(client, paths.snapshotsRoot())) {
                long tableId;
                try {
                    tableId = Long.parseUnsignedLong(table);
                } catch (NumberFormatException e) {
                    continue;
                }
                for (String child : Zk.children(client, paths.snapshots(tableId))) {
                    String node = paths.snapshots(tableId) + "/" + child;
                    SnapshotInfo info = read(node);
                    if (info == null || info.getState() != SnapshotState.TAKING) {
                        continue;
                    }
                    List<Long> holders = info.getTabletsList().stream().map(SnapshotTablet::getServerId).distinct()
                            .toList();
                    List<String> problems = dropParts(tableId, info.getSnapshotId(), holders);
                    if (!problems.isEmpty()) {
                        LOG.warn("unfinished snapshot {} of table {}: kept for now: {}", info.getSnapshotId(), table,
                                String.join("; ", problems));
                        continue;
                    }
                    Zk.unchecked("delete unfinished snapshot " + node, () -> {
                        try {
                            client.delete().forPath(node);
                        } catch (KeeperException.NoNodeException e) {
                            // Gone already.
                        }
                        return null;
                    });
                    LOG.info("cleared snapshot {} of table {}, left unfinished by an earlier leader",
                            info.getSnapshotId(), table);
                    cleared++;
                }
            }
            return cleared;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Asks each holder that is up to forget its part; a holder that is gone took its part with it.
     *
     * @return what went wrong (empty: every part is gone)
     */
    private List<String> dropParts(long tableId, long snapshotId, java.util.Collection<Long> holders) {
        Map<Long, CompletableFuture<DropSnapshotResponse>> calls = new LinkedHashMap<>();
        for (long holder : holders) {
            Optional<ServerInfo> server = view.server(holder);
            if (server.isPresent() && server.get().getStatus() == ServerStatus.UP) {
                calls.put(holder, masters.dropSnapshot(server.get().getAddress(), DropSnapshotRequest.newBuilder()
                        .setServerId(holder).setTableId(tableId).setSnapshotId(snapshotId).build()));
            }
        }
        List<String> problems = new ArrayList<>();
        for (Map.Entry<Long, CompletableFuture<DropSnapshotResponse>> call : calls.entrySet()) {
            String holder = ClusterPaths.serverNode(call.getKey());
            try {
                Status status = call.getValue().get().getStatus();
                if (status != Status.OK && status != Status.SNAPSHOT_DOESNT_EXIST && status != Status.WRONG_SERVER) {
                    problems.add("master " + holder + " answered " + status);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problems.add("interrupted while waiting for " + holder);
            } catch (ExecutionException e) {
                problems.add("master " + holder + " unreachable (" + e.getCause().getMessage() + ")");
            }
        }
        return problems;
    }

    /** Fills in holders' addresses, and marks LOST a complete snapshot whose holder is no longer up. */
    private SnapshotInfo withAddresses(SnapshotInfo info) {
        SnapshotInfo.Builder builder = info.toBuilder();
        boolean lost = false;
        for (int i = 0; i < builder.getTabletsCount(); i++) {
            SnapshotTablet tablet = builder.getTablets(i);
            Optional<ServerInfo> server = view.server(tablet.getServerId());
            boolean up = server.isPresent() && server.get().getStatus() == ServerStatus.UP;
            lost |= !up;
            builder.setTablets(i, tablet.toBuilder().setServerAddress(up ? server.get().getAddress() : ""));
        }
        if (lost && info.getState() == SnapshotState.COMPLETE) {
            builder.setState(SnapshotState.LOST);
        }
        return builder.build();
    }

    private SnapshotInfo read(String node) {
        Zk.Versioned data = Zk.read(client, node);
        if (data == null) {
            return null;
        }
        try {
            return SnapshotInfo.parseFrom(data.data());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new ClusterStoreException("snapshot node " + node + " is malformed: " + e.getMessage(), e);
        }
    }

    /**
     * Gives the snapshot the table's next id and records it TAKING, in one ZooKeeper transaction
     * with the advance of the table's id counter (the data of {@code snapshots/<table id>}), so an
     * id is never handed out twice, even after the newest snapshot is dropped.
     *
     * @return the snapshot's id
     */
    private long record(long tableId, SnapshotInfo.Builder info) {
        String counter = paths.snapshots(tableId);
        for (int attempt = 0; attempt < 10; attempt++) {
            Zk.Versioned current = Zk.read(client, counter);
            if (current == null) {
                Zk.createIfMissing(client, counter, NodeCodec.encodeLong(1));
                continue;
            }
            long id = current.data().length == 0 ? 1 : NodeCodec.decodeLong(counter, current.data());
            byte[] record = info.setSnapshotId(id).build().toByteArray();
            try {
                Zk.commit(client, "record snapshot " + id + " of table " + Long.toUnsignedString(tableId), List.of(
                        client.transactionOp().setData().withVersion(current.version())
                                .forPath(counter, NodeCodec.encodeLong(id + 1)),
                        client.transactionOp().create().forPath(paths.snapshot(tableId, id), record)));
                return id;
            } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException e) {
                // Another leader for a moment: read the counter again.
            } catch (KeeperException e) {
                throw new ClusterStoreException("record snapshot of table " + tableId + ": " + e.getMessage(), e);
            } catch (ClusterStoreException e) {
                throw e;
            } catch (Exception e) {
                throw new ClusterStoreException("record snapshot of table " + tableId + ": " + e, e);
            }
        }
        throw new ClusterStoreException("could not record a snapshot of table " + tableId + ": too many races");
    }

    private static String ms(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1f", nanos / 1e6);
    }

    private static CreateSnapshotResponse retry(String message) {
        return CreateSnapshotResponse.newBuilder().setStatus(Status.RETRY).setMessage(message).build();
    }
}
