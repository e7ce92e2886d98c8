package io.ferrite.client;

import io.ferrite.client.ops.ClientRuntime;
import io.ferrite.client.ops.Failures;
import io.ferrite.client.routing.TabletMapCache;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Status;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A connection to a Ferrite cluster, from {@link Ferrite#connect(String)}: table
 * administration, cluster information, and {@link Table} handles for data. Thread-safe; meant
 * to be shared by a whole application and closed when it stops. Nothing is sent until the
 * first call.
 */
public final class FerriteClient implements AutoCloseable {
    /** Longest table name, in UTF-8 bytes. */
    public static final int MAX_TABLE_NAME_BYTES = 256;

    private final ClientRuntime runtime;
    private final ConcurrentHashMap<String, Table> tables = new ConcurrentHashMap<>();

    FerriteClient(ClientRuntime runtime) {
        this.runtime = runtime;
    }

    /**
     * The options this client was made with.
     *
     * @return the options
     */
    public ClientOptions options() {
        return runtime.options();
    }

    /**
     * Creates a table spread over {@code serverSpan} masters.
     *
     * @param name       1..256 bytes of UTF-8, no '/'
     * @param serverSpan tablets (and masters) to spread over, at least 1; capped by the cluster
     *                   at the number of live masters
     * @return the new table's id
     * @throws TableExistsException     if the name is taken
     * @throws InvalidArgumentException for a bad name or span
     */
    public long createTable(String name, int serverSpan) {
        return Failures.await(createTableAsync(name, serverSpan));
    }

    /**
     * Creates a table on one master.
     *
     * @param name the name
     * @return the new table's id
     * @throws TableExistsException if the name is taken
     */
    public long createTable(String name) {
        return createTable(name, 1);
    }

    /**
     * Creates a table asynchronously.
     *
     * @param name       the name
     * @param serverSpan masters to spread over, at least 1
     * @return the new table's id
     */
    public CompletableFuture<Long> createTableAsync(String name, int serverSpan) {
        FerriteException bad = checkName(name);
        if (bad == null && serverSpan < 1) {
            bad = new InvalidArgumentException("serverSpan must be at least 1, got " + serverSpan);
        }
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        return runtime.coordinator().createTable(name, serverSpan).thenApply(r -> switch (r.getStatus()) {
            case OK -> r.getTableId();
            case TABLE_EXISTS -> throw new TableExistsException("table " + name + " already exists");
            case INVALID_ARGUMENT -> throw new InvalidArgumentException("createTable(" + name + "): "
                    + r.getMessage());
            default -> throw new FerriteException("createTable(" + name + "): " + r.getStatus() + " "
                    + r.getMessage());
        });
    }

    /**
     * Drops a table and its data.
     *
     * @param name the table's name
     * @throws TableNotFoundException if there is no such table
     */
    public void dropTable(String name) {
        Failures.await(dropTableAsync(name));
    }

    /**
     * Drops a table asynchronously.
     *
     * @param name the table's name
     * @return completes when dropped
     */
    public CompletableFuture<Void> dropTableAsync(String name) {
        FerriteException bad = checkName(name);
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        return runtime.coordinator().dropTable(name).thenApply(r -> {
            tables.remove(name);
            if (r.getStatus() == Status.TABLE_DOESNT_EXIST) {
                throw new TableNotFoundException("table " + name + " does not exist");
            }
            if (r.getStatus() != Status.OK) {
                throw new FerriteException("dropTable(" + name + "): " + r.getStatus() + " " + r.getMessage());
            }
            return null;
        });
    }

    /**
     * Lists the tables.
     *
     * @return every table
     */
    public List<TableInfo> listTables() {
        return Failures.await(listTablesAsync());
    }

    /**
     * Lists the tables asynchronously.
     *
     * @return every table
     */
    public CompletableFuture<List<TableInfo>> listTablesAsync() {
        return runtime.coordinator().listTables().thenApply(r -> {
            List<TableInfo> result = new ArrayList<>(r.getTablesCount());
            for (io.ferrite.proto.v1.TableInfo t : r.getTablesList()) {
                result.add(new TableInfo(t.getName(), t.getTableId(), t.getTabletCount()));
            }
            return List.copyOf(result);
        });
    }

    /**
     * Lists the servers and their status.
     *
     * @return every server the coordinator knows
     */
    public List<ServerInfo> servers() {
        return Failures.await(serversAsync());
    }

    /**
     * Lists the servers asynchronously.
     *
     * @return every server
     */
    public CompletableFuture<List<ServerInfo>> serversAsync() {
        return runtime.coordinator().listServers().thenApply(r -> {
            List<ServerInfo> result = new ArrayList<>(r.getServersCount());
            for (io.ferrite.proto.v1.ServerInfo s : r.getServersList()) {
                String status = s.getStatus() == ServerStatus.UNRECOGNIZED ? "UNKNOWN" : s.getStatus().name();
                result.add(new ServerInfo(s.getServerId(), s.getAddress(), s.getServicesList(), status,
                        s.getFailureDomain()));
            }
            return List.copyOf(result);
        });
    }

    /**
     * The cluster's status.
     *
     * @return leader, coordinators, server and table counts
     */
    public ClusterStatus clusterStatus() {
        return Failures.await(clusterStatusAsync());
    }

    /**
     * The cluster's status, asynchronously.
     *
     * @return the status
     */
    public CompletableFuture<ClusterStatus> clusterStatusAsync() {
        return runtime.coordinator().clusterStatus().thenApply(r -> new ClusterStatus(r.getCluster(),
                r.getLeader(), r.getCoordinatorsList(), r.getServersUp(), r.getServersCrashed(), r.getTables(),
                r.getTabletsRecovering(), r.getRecoveriesList().stream().map(c -> new ClusterStatus.Recovery(
                        c.getMasterId(), c.getPhase(), c.getPartitions(), c.getPartitionsDone(), c.getBytesReplayed(),
                        c.getStartedAtMillis())).toList()));
    }

    /**
     * The snapshots of a table, oldest first.
     *
     * @param table the table's name
     * @return its snapshots
     * @throws TableNotFoundException if there is no such table (a dropped table's snapshots are
     *                                listed by {@link #snapshots(long)})
     */
    public List<TableSnapshot> snapshots(String table) {
        return listSnapshots(table, 0);
    }

    /**
     * The snapshots of a table by id (also after the table was dropped), oldest first.
     *
     * @param tableId the table's id
     * @return its snapshots
     */
    public List<TableSnapshot> snapshots(long tableId) {
        return listSnapshots("", tableId);
    }

    private List<TableSnapshot> listSnapshots(String table, long tableId) {
        var response = Failures.await(runtime.coordinator().listSnapshots(table, tableId));
        if (response.getStatus() == Status.TABLE_DOESNT_EXIST) {
            throw new TableNotFoundException(response.getMessage());
        }
        if (response.getStatus() != Status.OK) {
            throw new FerriteException("snapshots(" + table + "): " + response.getStatus() + " " + response.getMessage());
        }
        List<TableSnapshot> snapshots = new ArrayList<>();
        for (var info : response.getSnapshotsList()) {
            snapshots.add(new TableSnapshot(runtime, info));
        }
        return snapshots;
    }

    /**
     * Turns on automatic snapshots of a table: one every {@code interval}, kept by the
     * time-machine retention (the newest of each hour for a day, of each day for a month, of
     * each week before), dropping the oldest while the table's snapshots pin more than
     * {@code budgetBytes} on its masters.
     *
     * @param table       the table's name
     * @param interval    at least one second
     * @param budgetBytes 0 for no budget
     */
    public void setAutosave(String table, java.time.Duration interval, long budgetBytes) {
        setAutosave(table, interval.toMillis(), budgetBytes);
    }

    /**
     * Turns automatic snapshots of a table off (the snapshots taken stay).
     *
     * @param table the table's name
     */
    public void autosaveOff(String table) {
        setAutosave(table, 0, 0);
    }

    private void setAutosave(String table, long intervalMs, long budgetBytes) {
        var response = Failures.await(runtime.coordinator().setAutosave(table, intervalMs, budgetBytes));
        switch (response.getStatus()) {
            case OK -> { }
            case TABLE_DOESNT_EXIST -> throw new TableNotFoundException(response.getMessage());
            case INVALID_ARGUMENT -> throw new InvalidArgumentException("autosave: " + response.getMessage());
            default -> throw new FerriteException("autosave(" + table + "): " + response.getStatus() + " "
                    + response.getMessage());
        }
    }

    /**
     * The newest complete snapshot of a table taken at or before {@code time}: "the table as of".
     *
     * @param table the table's name
     * @param time  the time
     * @return the snapshot, or empty if none was taken by then
     */
    public java.util.Optional<TableSnapshot> snapshotAsOf(String table, java.time.Instant time) {
        TableSnapshot best = null;
        for (TableSnapshot snapshot : snapshots(table)) {
            if (snapshot.complete() && !snapshot.createdAt().isAfter(time)
                    && (best == null || snapshot.createdAt().isAfter(best.createdAt()))) {
                best = snapshot;
            }
        }
        return java.util.Optional.ofNullable(best);
    }

    /**
     * Imports a snapshot export file ({@link TableSnapshot#exportTo}) into a new table. The whole
     * file is checked first (framing, limits, checksum): a damaged file changes nothing.
     *
     * @param name       the new table's name
     * @param serverSpan masters to spread it over
     * @param file       the export file
     * @return what the file held (all of it was written)
     * @throws InvalidArgumentException if the file is not an intact export (nothing is created)
     * @throws TableExistsException     if the table exists (nothing is written)
     */
    public SnapshotFile.Summary importTable(String name, int serverSpan, java.nio.file.Path file) {
        SnapshotFile.verify(file);
        createTable(name, serverSpan);
        BulkLoad load = new BulkLoad(table(name));
        SnapshotFile.Summary summary = SnapshotFile.forEachVerified(file, BulkLoad.BATCH, batch -> batch.forEach(load::add));
        load.finish();
        return summary;
    }

    /**
     * Drops a snapshot.
     *
     * @param tableId    the table's id
     * @param snapshotId the snapshot's id
     * @throws SnapshotNotFoundException if there is no such snapshot
     */
    public void dropSnapshot(long tableId, long snapshotId) {
        dropSnapshot(runtime, tableId, snapshotId);
    }

    static void dropSnapshot(ClientRuntime runtime, long tableId, long snapshotId) {
        var response = Failures.await(runtime.coordinator().dropSnapshot(tableId, snapshotId));
        if (response.getStatus() == Status.SNAPSHOT_DOESNT_EXIST) {
            throw new SnapshotNotFoundException(response.getMessage());
        }
        if (response.getStatus() != Status.OK) {
            throw new FerriteException("dropSnapshot(" + snapshotId + "): " + response.getStatus() + " "
                    + response.getMessage());
        }
    }

    /**
     * A handle on a table; fetches its tablet map the first time (cached afterwards).
     *
     * @param name the table's name
     * @return the handle
     * @throws TableNotFoundException if there is no such table
     */
    public Table table(String name) {
        return Failures.await(tableAsync(name));
    }

    /**
     * A handle on a table, asynchronously.
     *
     * @param name the table's name
     * @return the handle
     */
    public CompletableFuture<Table> tableAsync(String name) {
        Table cached = tables.get(name);
        if (cached != null && !cached.isGone()) {
            return CompletableFuture.completedFuture(cached);
        }
        FerriteException bad = checkName(name);
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        return TabletMapCache.fetch(runtime.coordinator(), name).thenApply(map -> {
            Table fresh = new Table(runtime, new TabletMapCache(runtime.coordinator(), map));
            return tables.compute(name, (n, old) -> old != null && !old.isGone() && old.id() == fresh.id()
                    ? old : fresh);
        });
    }

    /** Closes streams and channels; calls in flight fail. Idempotent. */
    @Override
    public void close() {
        runtime.close();
    }

    ClientRuntime runtime() {
        return runtime;
    }

    private static FerriteException checkName(String name) {
        if (name == null || name.isEmpty()) {
            return new InvalidArgumentException("table name is empty");
        }
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_TABLE_NAME_BYTES) {
            return new InvalidArgumentException("table name is " + bytes + " bytes (at most "
                    + MAX_TABLE_NAME_BYTES + ")");
        }
        if (name.indexOf('/') >= 0) {
            return new InvalidArgumentException("table name contains '/': " + name);
        }
        return null;
    }
}
