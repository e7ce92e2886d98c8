package io.ferrite.coordinator.rpc;

import io.ferrite.coordinator.table.TableManager;
import io.ferrite.coordinator.table.TableNames;
import io.ferrite.coordinator.table.TableStore;
import io.ferrite.coordinator.zk.ClusterStoreException;
import io.ferrite.coordinator.zk.ClusterView;
import io.ferrite.proto.v1.ClusterStatusRequest;
import io.ferrite.proto.v1.ClusterStatusResponse;
import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.CreateTableRequest;
import io.ferrite.proto.v1.CreateTableResponse;
import io.ferrite.proto.v1.DropTableRequest;
import io.ferrite.proto.v1.DropTableResponse;
import io.ferrite.proto.v1.GetTabletMapRequest;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.HeartbeatRequest;
import io.ferrite.proto.v1.HeartbeatResponse;
import io.ferrite.proto.v1.ListServersRequest;
import io.ferrite.proto.v1.ListServersResponse;
import io.ferrite.proto.v1.ListTablesRequest;
import io.ferrite.proto.v1.ListTablesResponse;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.TableInfo;
import io.ferrite.proto.v1.Tablet;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator service. Reads (ListTables, GetTabletMap, ListServers, ClusterStatus) are
 * answered by any coordinator from its cached view of ZooKeeper. Mutations (CreateTable,
 * DropTable) are performed by the leader; a follower forwards them to the leader once, and
 * answers NOT_LEADER (with the leader's address when known) if that fails. After a mutation
 * succeeds, the coordinator that received it waits (bounded) until its own cache shows the
 * change, so a client reading through the same coordinator sees its write.
 *
 * <p>Heartbeats are answered by the leader's failure detector ({@link HeartbeatEndpoint}); a
 * follower answers NOT_LEADER with the leader's address (a heartbeat is not forwarded: the lease
 * it grants is the leader's promise, and an extra hop would only delay it).
 *
 * <p>Expected outcomes are statuses in the response. gRPC errors are reserved for faults:
 * UNAVAILABLE when ZooKeeper cannot be reached, INTERNAL for a bug.
 */
public final class CoordinatorServiceImpl extends CoordinatorServiceGrpc.CoordinatorServiceImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(CoordinatorServiceImpl.class);

    private final String cluster;
    private final ClusterView view;
    private final TableStore store;
    private final TableManager tables;
    private final Leadership leadership;
    private final LeaderForwarder forwarder;
    private final Duration cacheWait;
    private final HeartbeatEndpoint heartbeats;
    private final io.ferrite.coordinator.snapshot.SnapshotManager snapshots;

    public CoordinatorServiceImpl(String cluster, ClusterView view, TableStore store, TableManager tables,
            Leadership leadership, LeaderForwarder forwarder, Duration cacheWait, HeartbeatEndpoint heartbeats,
            io.ferrite.coordinator.snapshot.SnapshotManager snapshots) {
        this.heartbeats = heartbeats;
        this.snapshots = snapshots;
        this.cluster = cluster;
        this.view = view;
        this.store = store;
        this.tables = tables;
        this.leadership = leadership;
        this.forwarder = forwarder;
        this.cacheWait = cacheWait;
    }

    @Override
    public void createTable(CreateTableRequest request, StreamObserver<CreateTableResponse> responses) {
        answer("CreateTable", responses, () -> {
            String problem = TableNames.problem(request.getName());
            if (problem != null) {
                return CreateTableResponse.newBuilder().setStatus(Status.INVALID_ARGUMENT).setMessage(problem).build();
            }
            CreateTableResponse response = null;
            if (leadership.isLeader()) {
                response = tables.createTable(request.getName(), request.getServerSpan(), request.getCreateToken());
            } else if (!Forwarding.isForwarded()) {
                response = forwarder.createTable(request).orElse(null);
            }
            if (response == null || response.getStatus() == Status.NOT_LEADER) {
                return CreateTableResponse.newBuilder().setStatus(Status.NOT_LEADER)
                        .setMessage("not the leader, and the request could not be forwarded to it")
                        .setLeader(leadership.leaderAddress().orElse("")).build();
            }
            boolean exists = response.getStatus() == Status.OK
                    || (response.getStatus() == Status.RETRY && response.getTableId() != 0);
            if (exists) {
                awaitCache(() -> view.table(request.getName()).isPresent());
            }
            return response;
        });
    }

    @Override
    public void dropTable(DropTableRequest request, StreamObserver<DropTableResponse> responses) {
        answer("DropTable", responses, () -> {
            DropTableResponse response = null;
            if (leadership.isLeader()) {
                response = tables.dropTable(request.getName());
            } else if (!Forwarding.isForwarded()) {
                response = forwarder.dropTable(request).orElse(null);
            }
            if (response == null || response.getStatus() == Status.NOT_LEADER) {
                return DropTableResponse.newBuilder().setStatus(Status.NOT_LEADER)
                        .setMessage("not the leader, and the request could not be forwarded to it")
                        .setLeader(leadership.leaderAddress().orElse("")).build();
            }
            if (response.getStatus() == Status.OK) {
                awaitCache(() -> view.table(request.getName()).isEmpty());
            }
            return response;
        });
    }

    @Override
    public void createSnapshot(io.ferrite.proto.v1.CreateSnapshotRequest request,
                               StreamObserver<io.ferrite.proto.v1.CreateSnapshotResponse> responses) {
        answer("CreateSnapshot", responses, () -> {
            String problem = TableNames.problem(request.getTableName());
            if (problem != null) {
                return io.ferrite.proto.v1.CreateSnapshotResponse.newBuilder().setStatus(Status.INVALID_ARGUMENT)
                        .setMessage(problem).build();
            }
            return leadership.isLeader() ? snapshots.create(request.getTableName())
                    : io.ferrite.proto.v1.CreateSnapshotResponse.newBuilder().setStatus(Status.NOT_LEADER)
                            .setMessage("not the leader").setLeader(leadership.leaderAddress().orElse("")).build();
        });
    }

    @Override
    public void listSnapshots(io.ferrite.proto.v1.ListSnapshotsRequest request,
                              StreamObserver<io.ferrite.proto.v1.ListSnapshotsResponse> responses) {
        answer("ListSnapshots", responses, () -> snapshots.list(request.getTableName(), request.getTableId()));
    }

    @Override
    public void dropSnapshot(io.ferrite.proto.v1.DropTableSnapshotRequest request,
                             StreamObserver<io.ferrite.proto.v1.DropTableSnapshotResponse> responses) {
        answer("DropSnapshot", responses, () -> {
            if (request.getTableId() == 0 || request.getSnapshotId() == 0) {
                return io.ferrite.proto.v1.DropTableSnapshotResponse.newBuilder().setStatus(Status.INVALID_ARGUMENT)
                        .setMessage("table_id and snapshot_id are required").build();
            }
            return leadership.isLeader() ? snapshots.drop(request.getTableId(), request.getSnapshotId())
                    : io.ferrite.proto.v1.DropTableSnapshotResponse.newBuilder().setStatus(Status.NOT_LEADER)
                            .setMessage("not the leader").setLeader(leadership.leaderAddress().orElse("")).build();
        });
    }

    @Override
    public void setAutosave(io.ferrite.proto.v1.SetAutosaveRequest request,
                            StreamObserver<io.ferrite.proto.v1.SetAutosaveResponse> responses) {
        answer("SetAutosave", responses, () -> leadership.isLeader()
                ? snapshots.setAutosave(request.getTableName(), request.getIntervalMs(), request.getBudgetBytes())
                : io.ferrite.proto.v1.SetAutosaveResponse.newBuilder().setStatus(Status.NOT_LEADER)
                        .setMessage("not the leader").setLeader(leadership.leaderAddress().orElse("")).build());
    }

    @Override
    public void heartbeat(HeartbeatRequest request, StreamObserver<HeartbeatResponse> responses) {
        answer("Heartbeat", responses, () -> leadership.isLeader() ? heartbeats.receive(request)
                : HeartbeatResponse.newBuilder().setStatus(Status.NOT_LEADER).setSequence(request.getSequence())
                        .setLeader(leadership.leaderAddress().orElse(""))
                        .setMessage("not the leader").build());
    }

    @Override
    public void listTables(ListTablesRequest request, StreamObserver<ListTablesResponse> responses) {
        answer("ListTables", responses, () -> ListTablesResponse.newBuilder().addAllTables(view.tables()).build());
    }

    @Override
    public void getTabletMap(GetTabletMapRequest request, StreamObserver<GetTabletMapResponse> responses) {
        answer("GetTabletMap", responses, () -> {
            Optional<TableInfo> table;
            List<Tablet> tablets;
            if (request.getTableId() != 0) {
                table = view.table(request.getTableId());
                tablets = table.map(t -> view.tablets(t.getName())).orElse(List.of());
            } else {
                table = view.table(request.getName());
                tablets = table.map(t -> view.tablets(t.getName())).orElse(List.of());
                if (table.isEmpty() && TableNames.problem(request.getName()) == null) {
                    // The cache may lag a table just created through another coordinator.
                    Optional<TableStore.StoredTable> stored = store.read(request.getName());
                    table = stored.map(TableStore.StoredTable::info);
                    tablets = stored.map(s -> s.tablets().stream().map(TableStore.StoredTablet::tablet).toList())
                            .orElse(List.of());
                }
            }
            if (table.isEmpty()) {
                String which = request.getTableId() != 0 ? "id " + Long.toUnsignedString(request.getTableId())
                        : "'" + request.getName() + "'";
                return GetTabletMapResponse.newBuilder().setStatus(Status.TABLE_DOESNT_EXIST)
                        .setMessage("no table " + which).build();
            }
            GetTabletMapResponse.Builder response = GetTabletMapResponse.newBuilder().setStatus(Status.OK)
                    .setName(table.get().getName()).setTableId(table.get().getTableId());
            for (Tablet tablet : tablets) {
                String address = view.server(tablet.getOwnerId()).map(ServerInfo::getAddress).orElse("");
                response.addTablets(tablet.toBuilder().setOwnerAddress(address));
            }
            return response.build();
        });
    }

    @Override
    public void listServers(ListServersRequest request, StreamObserver<ListServersResponse> responses) {
        answer("ListServers", responses, () -> ListServersResponse.newBuilder().addAllServers(view.servers()).build());
    }

    @Override
    public void clusterStatus(ClusterStatusRequest request, StreamObserver<ClusterStatusResponse> responses) {
        answer("ClusterStatus", responses, () -> {
            int up = 0;
            int crashed = 0;
            for (ServerInfo server : view.servers()) {
                if (server.getStatus() == ServerStatus.UP) {
                    up++;
                } else if (server.getStatus() == ServerStatus.CRASHED) {
                    crashed++;
                }
            }
            return ClusterStatusResponse.newBuilder()
                    .setCluster(cluster)
                    .setLeader(leadership.leaderAddress().orElse(""))
                    .addAllCoordinators(new ArrayList<>(view.coordinators()))
                    .setServersUp(up)
                    .setServersCrashed(crashed)
                    .setTables(view.tables().size())
                    .addAllRecoveries(view.recoveries())
                    .setTabletsRecovering((int) view.tables().stream().flatMap(t -> view.tablets(t.getName()).stream())
                            .filter(t -> t.getState() == io.ferrite.proto.v1.TabletState.RECOVERING).count())
                    .setCoordinatorEpoch(leadership.isLeader() ? leadership.epoch() : view.coordinatorEpoch())
                    .build();
        });
    }

    private void awaitCache(BooleanSupplier condition) {
        try {
            if (!view.await(condition, cacheWait)) {
                LOG.warn("the cached view did not catch up with a committed change within {}", cacheWait);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static <T> void answer(String method, StreamObserver<T> responses, Supplier<T> handler) {
        T response;
        try {
            response = handler.get();
        } catch (ClusterStoreException e) {
            LOG.warn("{}: ZooKeeper unavailable: {}", method, e.getMessage());
            responses.onError(io.grpc.Status.UNAVAILABLE.withDescription("coordination store: " + e.getMessage())
                    .asRuntimeException());
            return;
        } catch (RuntimeException e) {
            LOG.error("{} failed", method, e);
            responses.onError(io.grpc.Status.INTERNAL.withDescription(method + " failed: " + e)
                    .asRuntimeException());
            return;
        }
        responses.onNext(response);
        responses.onCompleted();
    }
}
