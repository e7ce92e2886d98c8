package io.ferrite.coordinator.table;

import com.google.protobuf.ByteString;
import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.coordinator.zk.ClusterStoreException;
import io.ferrite.coordinator.zk.ClusterView;
import io.ferrite.proto.v1.CreateTableResponse;
import io.ferrite.proto.v1.DropTableDataRequest;
import io.ferrite.proto.v1.DropTableDataResponse;
import io.ferrite.proto.v1.DropTableResponse;
import io.ferrite.proto.v1.OwnedTablet;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.TableInfo;
import io.ferrite.proto.v1.TabletState;
import io.ferrite.proto.v1.TakeTabletsRequest;
import io.ferrite.proto.v1.TakeTabletsResponse;
import io.ferrite.proto.v1.Tablet;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's table administration: create and drop, and finishing either after a failure.
 *
 * <p>Create: pick the least-loaded live masters, split the hash space over them, write table,
 * tablets and creating markers in one transaction, then ask each owner to take its tablets
 * and record where its log stood (clearing the tablet's marker in the same transaction). If an
 * owner does not answer, the table exists but stays "creating": the reply is RETRY, and a
 * retried create, the periodic {@link #resumePending()} or the next leader finishes it.
 * Re-sending TakeTablets is safe (masters treat it as idempotent) and the first recorded
 * position is never overwritten.
 *
 * <p>Drop: delete table and tablets and write a dropping marker per owner in one transaction,
 * then tell each owner to drop the data, clearing its marker when it confirms; owners that
 * do not answer are retried by {@link #resumePending()} (best effort, logged).
 *
 * <p>Mutations are serialized by one lock; ZooKeeper versions guard against a second leader
 * during a hand-over.
 */
public final class TableManager {
    /** Longest create token accepted. */
    public static final int MAX_CREATE_TOKEN_BYTES = 64;
    private static final Logger LOG = LoggerFactory.getLogger(TableManager.class);
    public static final String MASTER_SERVICE = "master";

    private final TableStore store;
    private final ClusterView view;
    private final MasterControl masters;
    private final BooleanSupplier isLeader;
    private final ReentrantLock lock = new ReentrantLock();

    public TableManager(TableStore store, ClusterView view, MasterControl masters, BooleanSupplier isLeader) {
        this.store = store;
        this.view = view;
        this.masters = masters;
        this.isLeader = isLeader;
    }

    /**
     * Creates a table of {@code serverSpan} tablets (0 means 1), capped at the number of live
     * masters.
     *
     * @throws ClusterStoreException if ZooKeeper failed
     */
    public CreateTableResponse createTable(String name, int serverSpan) {
        return createTable(name, serverSpan, ByteString.EMPTY);
    }

    /**
     * Creates a table as {@link #createTable(String, int)}; a table of that name that was created
     * with the same non-empty {@code createToken} counts as this request's own (a retry), so the
     * answer is OK with its id.
     *
     * @throws ClusterStoreException if ZooKeeper failed
     */
    public CreateTableResponse createTable(String name, int serverSpan, ByteString createToken) {
        String problem = TableNames.problem(name);
        if (problem == null && createToken.size() > MAX_CREATE_TOKEN_BYTES) {
            problem = "create_token has " + createToken.size() + " bytes, at most " + MAX_CREATE_TOKEN_BYTES
                    + " allowed";
        }
        if (problem != null) {
            return CreateTableResponse.newBuilder().setStatus(Status.INVALID_ARGUMENT).setMessage(problem).build();
        }
        lock.lock();
        try {
            if (!isLeader.getAsBoolean()) {
                return CreateTableResponse.newBuilder().setStatus(Status.NOT_LEADER)
                        .setMessage("this coordinator is not the leader").build();
            }
            Optional<TableStore.StoredTable> existing = store.read(name);
            if (existing.isPresent()) {
                TableStore.StoredTable table = existing.get();
                boolean retry = !createToken.isEmpty() && createToken.equals(table.info().getCreateToken());
                if (!table.pending().isEmpty() || retry) {
                    return finishCreate(table);
                }
                return CreateTableResponse.newBuilder().setStatus(Status.TABLE_EXISTS).setTableId(table.id())
                        .setMessage("table '" + name + "' exists").build();
            }
            List<ServerInfo> live = liveMasters();
            if (live.isEmpty()) {
                return CreateTableResponse.newBuilder().setStatus(Status.RETRY)
                        .setMessage("no live master to place tablets on").build();
            }
            int span = Math.min(Math.max(serverSpan, 1), live.size());
            List<ServerInfo> owners = live.subList(0, span);
            List<HashRange> ranges = HashRange.split(span);
            List<Tablet> tablets = new ArrayList<>(span);
            for (int i = 0; i < span; i++) {
                tablets.add(Tablet.newBuilder()
                        .setStartHash(ranges.get(i).start())
                        .setEndHash(ranges.get(i).end())
                        .setOwnerId(owners.get(i).getServerId())
                        .setState(TabletState.NORMAL)
                        .build());
            }
            OptionalLong id = store.create(name, tablets, createToken);
            Optional<TableStore.StoredTable> created = store.read(name);
            if (id.isEmpty() || created.isEmpty() || created.get().id() != id.getAsLong()) {
                return CreateTableResponse.newBuilder().setStatus(Status.TABLE_EXISTS)
                        .setTableId(created.map(TableStore.StoredTable::id).orElse(0L))
                        .setMessage("table '" + name + "' was created concurrently").build();
            }
            LOG.info("created table '{}' (id {}) over {} tablet(s)", name, id.getAsLong(), span);
            return finishCreate(created.get());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Drops a table: its tablets are gone from ZooKeeper when this returns; its masters are
     * told to drop the data (best effort, retried by {@link #resumePending()}).
     */
    public DropTableResponse dropTable(String name) {
        lock.lock();
        try {
            if (!isLeader.getAsBoolean()) {
                return DropTableResponse.newBuilder().setStatus(Status.NOT_LEADER)
                        .setMessage("this coordinator is not the leader").build();
            }
            for (int attempt = 0; attempt < 16; attempt++) {
                Optional<TableStore.StoredTable> table = store.read(name);
                if (table.isEmpty()) {
                    return DropTableResponse.newBuilder().setStatus(Status.TABLE_DOESNT_EXIST)
                            .setMessage("no table named '" + name + "'").build();
                }
                if (store.drop(table.get())) {
                    LOG.info("dropped table '{}' (id {})", name, table.get().id());
                    finishDrop(table.get().id());
                    return DropTableResponse.newBuilder().setStatus(Status.OK).build();
                }
            }
            throw new ClusterStoreException("drop table " + name + ": it kept changing under the leader");
        } finally {
            lock.unlock();
        }
    }

    /** Finishes creates and drops left unfinished (by this leader or an earlier one). */
    public void resumePending() {
        lock.lock();
        try {
            if (!isLeader.getAsBoolean()) {
                return;
            }
            for (String name : store.pendingCreates()) {
                Optional<TableStore.StoredTable> table = store.read(name);
                if (table.isPresent()) {
                    CreateTableResponse outcome = finishCreate(table.get());
                    if (outcome.getStatus() == Status.OK) {
                        LOG.info("finished creating table '{}'", name);
                    }
                } else {
                    store.clearCreating(name);
                }
            }
            for (long tableId : store.pendingDrops()) {
                finishDrop(tableId);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Live masters (UP, liveness node present, running "master"), least loaded first. */
    private List<ServerInfo> liveMasters() {
        Map<Long, Long> load = tabletsPerOwner();
        List<ServerInfo> live = new ArrayList<>();
        for (ServerInfo server : view.servers()) {
            if (server.getStatus() == ServerStatus.UP && server.getServicesList().contains(MASTER_SERVICE)
                    && view.isLive(server.getServerId())) {
                live.add(server);
            }
        }
        live.sort(Comparator.<ServerInfo>comparingLong(s -> load.getOrDefault(s.getServerId(), 0L))
                .thenComparing(ServerInfo::getServerId, Long::compareUnsigned));
        return live;
    }

    private Map<Long, Long> tabletsPerOwner() {
        Map<Long, Long> load = new HashMap<>();
        for (TableInfo table : view.tables()) {
            for (Tablet tablet : view.tablets(table.getName())) {
                load.merge(tablet.getOwnerId(), 1L, Long::sum);
            }
        }
        return load;
    }

    /** Sends TakeTablets for every tablet still marked creating, and records the answers. */
    private CreateTableResponse finishCreate(TableStore.StoredTable table) {
        Map<Long, List<TableStore.StoredTablet>> byOwner = new LinkedHashMap<>();
        for (TableStore.StoredTablet tablet : table.tablets()) {
            if (table.pending().contains(tablet.node())) {
                byOwner.computeIfAbsent(tablet.tablet().getOwnerId(), owner -> new ArrayList<>()).add(tablet);
            }
        }
        Map<Long, CompletableFuture<TakeTabletsResponse>> calls = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<Long, List<TableStore.StoredTablet>> entry : byOwner.entrySet()) {
            Optional<ServerInfo> owner = view.server(entry.getKey());
            if (owner.isEmpty() || owner.get().getStatus() != ServerStatus.UP) {
                problems.add("owner " + ClusterPaths.serverNode(entry.getKey())
                        + " is " + owner.map(s -> s.getStatus().name()).orElse("unknown"));
                continue;
            }
            TakeTabletsRequest.Builder request = TakeTabletsRequest.newBuilder().setServerId(entry.getKey());
            for (TableStore.StoredTablet tablet : entry.getValue()) {
                request.addTablets(OwnedTablet.newBuilder()
                        .setTableId(table.id())
                        .setStartHash(tablet.tablet().getStartHash())
                        .setEndHash(tablet.tablet().getEndHash()));
            }
            calls.put(entry.getKey(), masters.takeTablets(owner.get().getAddress(), request.build()));
        }
        for (Map.Entry<Long, CompletableFuture<TakeTabletsResponse>> call : calls.entrySet()) {
            String owner = ClusterPaths.serverNode(call.getKey());
            TakeTabletsResponse response;
            try {
                response = call.getValue().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problems.add("interrupted while waiting for " + owner);
                break;
            } catch (ExecutionException e) {
                LOG.warn("table '{}': master {} did not take its tablets: {}", table.name(), owner,
                        e.getCause().toString());
                problems.add("master " + owner + " unreachable (" + e.getCause().getMessage() + ")");
                continue;
            }
            if (response.getStatus() != Status.OK) {
                problems.add("master " + owner + " answered " + response.getStatus());
                continue;
            }
            for (TableStore.StoredTablet tablet : byOwner.get(call.getKey())) {
                if (!store.recordCreation(table.name(), tablet, response.getLogSegmentId(), response.getLogOffset())) {
                    problems.add("tablet " + tablet.node() + " changed while being created");
                }
            }
        }
        if (problems.isEmpty()) {
            return CreateTableResponse.newBuilder().setStatus(Status.OK).setTableId(table.id()).build();
        }
        return CreateTableResponse.newBuilder().setStatus(Status.RETRY).setTableId(table.id())
                .setMessage("table '" + table.name() + "' (id " + table.id()
                        + ") is created but not yet served: " + String.join("; ", problems))
                .build();
    }

    /** Tells each owner that has not confirmed yet to drop the table's data. */
    private void finishDrop(long tableId) {
        Map<Long, CompletableFuture<DropTableDataResponse>> calls = new LinkedHashMap<>();
        DropTableDataRequest request = DropTableDataRequest.newBuilder().setTableId(tableId).build();
        for (long ownerId : store.pendingDropOwners(tableId)) {
            Optional<ServerInfo> owner = view.server(ownerId);
            if (owner.isEmpty() || owner.get().getStatus() != ServerStatus.UP) {
                // Its memory, and the table's data in it, went with it.
                store.dropConfirmed(tableId, ownerId);
                continue;
            }
            calls.put(ownerId, masters.dropTableData(owner.get().getAddress(), request));
        }
        for (Map.Entry<Long, CompletableFuture<DropTableDataResponse>> call : calls.entrySet()) {
            String owner = ClusterPaths.serverNode(call.getKey());
            try {
                DropTableDataResponse response = call.getValue().get();
                if (response.getStatus() == Status.OK || response.getStatus() == Status.TABLE_DOESNT_EXIST) {
                    store.dropConfirmed(tableId, call.getKey());
                } else {
                    LOG.warn("table {}: master {} answered {} to DropTableData; will retry", tableId, owner,
                            response.getStatus());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException e) {
                LOG.warn("table {}: master {} did not drop its data: {}; will retry", tableId, owner,
                        e.getCause().toString());
            }
        }
    }
}
