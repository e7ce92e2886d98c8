package io.ferrite.server.control;

import io.ferrite.backup.BackupReplicaReads;
import io.ferrite.coordinator.registry.ServerId;
import io.ferrite.master.EngineStats;
import io.ferrite.master.ObjectManager;
import io.ferrite.master.log.LogSegment;
import io.ferrite.master.log.MasterLog;
import io.ferrite.master.tablet.TabletSet;
import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.DropTableDataRequest;
import io.ferrite.proto.v1.DropTableDataResponse;
import io.ferrite.proto.v1.OwnedTablet;
import io.ferrite.proto.v1.PingRequest;
import io.ferrite.proto.v1.PingResponse;
import io.ferrite.proto.v1.ServerStatsRequest;
import io.ferrite.proto.v1.ServerStatsResponse;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.TakeTabletsRequest;
import io.ferrite.proto.v1.TakeTabletsResponse;
import io.ferrite.server.lease.Lease;
import io.ferrite.server.metrics.ErrorReporter;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.time.Instant;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's {@code ControlService}: liveness, statistics, the coordinator's tablet
 * assignments, and the backup's replica reads (ListReplicas, ReadReplica), which are the
 * backup's own ({@link BackupReplicaReads}): this class only hands them over, and turns a fault
 * into INTERNAL. TakeTablets records ranges in the {@link TabletSet} the engine consults;
 * DropTableData forgets a table's ranges first (no new writes land) and then drops its objects.
 * Both are idempotent, as the coordinator re-sends them after failures, and both are fenced by
 * the coordinator epoch ({@link EpochFence}): a call from a deposed leader (a lower epoch than
 * this server has seen, or none) gets STALE_COORDINATOR and changes nothing.
 */
public final class ControlServiceImpl extends ControlServiceGrpc.ControlServiceImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServiceImpl.class);

    private final ObjectManager engine;
    private final TabletSet tablets;
    private final Lease lease;
    private final EpochFence fence;
    private final Supplier<EngineStats> stats;
    private final ErrorReporter errors;
    private final Clock clock;
    private final BackupReplicaReads replicaReads;
    private final io.ferrite.master.data.DurabilityGate durability;

    public ControlServiceImpl(ObjectManager engine, TabletSet tablets, Lease lease, EpochFence fence,
                              Supplier<EngineStats> stats, ErrorReporter errors, Clock clock,
                              BackupReplicaReads replicaReads, io.ferrite.master.data.DurabilityGate durability) {
        this.replicaReads = replicaReads;
        this.durability = durability;
        this.fence = fence;
        this.engine = engine;
        this.tablets = tablets;
        this.lease = lease;
        this.stats = stats;
        this.errors = errors;
        this.clock = clock;
    }

    /** How long ServerStats waits for the replica manager's placement before leaving it out. */
    private static final long PLACEMENT_TIMEOUT_MS = 1_000;

    private long serverId() {
        return lease.serverId().map(ServerId::asLong).orElse(0L);
    }

    @Override
    public void listReplicas(io.ferrite.proto.v1.ListReplicasRequest request,
                             StreamObserver<io.ferrite.proto.v1.ListReplicasResponse> out) {
        try {
            reply(out, replicaReads.listReplicas(request));
        } catch (RuntimeException e) {
            fail(out, "control.list_replicas", e);
        }
    }

    @Override
    public void readReplica(io.ferrite.proto.v1.ReadReplicaRequest request,
                            StreamObserver<io.ferrite.proto.v1.ReadReplicaResponse> out) {
        try {
            reply(out, replicaReads.readReplica(request));
        } catch (RuntimeException e) {
            fail(out, "control.read_replica", e);
        }
    }

    @Override
    public void ping(PingRequest request, StreamObserver<PingResponse> out) {
        Instant now = clock.instant();
        reply(out, PingResponse.newBuilder().setServerId(serverId())
                .setNowNanos(now.getEpochSecond() * 1_000_000_000L + now.getNano()).build());
    }

    @Override
    public void serverStats(ServerStatsRequest request, StreamObserver<ServerStatsResponse> out) {
        try {
            EngineStats s = stats.get();
            ServerStatsResponse.Builder response = ServerStatsResponse.newBuilder();
            if (engine.context().replicationHook() instanceof io.ferrite.master.replication.ReplicaManager m) {
                try {
                    var placement = m.placement().get(PLACEMENT_TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
                    response.setLogFullyReplicated(placement.fullyReplicated())
                            .addAllReplicaBackupIds(placement.backups())
                            .setHighestSegmentId(placement.highestSegmentId())
                            .setPlacementKnown(true);
                    placement.replicasBySegment().entrySet().stream()
                            .sorted(java.util.Map.Entry.comparingByKey())
                            .forEach(e -> response.addSegmentReplicas(io.ferrite.proto.v1.SegmentReplicas.newBuilder()
                                    .setSegmentId(e.getKey()).addAllBackupIds(e.getValue())));
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    // The sender thread did not answer: report the log as not fully replicated.
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            reply(out, response
                    .setServerId(serverId())
                    .setMemoryBytes(engine.context().memoryBytes())
                    .setLiveEntryBytes(s.liveEntryBytes())
                    .setLiveObjects(s.liveObjects())
                    .setLogUtilization(s.logUtilization())
                    .setHashTableBytes(s.hashTableBytes())
                    .setSegments(s.segments())
                    .setCleanerBytesMoved(s.cleaner().bytesMoved())
                    .setCleanerSegletsFreed(s.cleaner().segletsFreed())
                    .addAllLogSegmentIds(java.util.Arrays.stream(engine.log().segmentIds()).boxed().toList())
                    .putAllSnapshotKeptBytes(engine.snapshotKeptBytesByTable())
                    .setReplicas(engine.context().replicationHook() instanceof
                            io.ferrite.master.replication.ReplicaManager m ? m.factor() : 0)
                    .build());
        } catch (RuntimeException e) {
            fail(out, "control.server_stats", e);
        }
    }

    @Override
    public void takeTablets(TakeTabletsRequest request, StreamObserver<TakeTabletsResponse> out) {
        try {
            for (OwnedTablet tablet : request.getTabletsList()) {
                String problem = tablet.getTableId() == 0 ? "table_id is missing"
                        : Long.compareUnsigned(tablet.getStartHash(), tablet.getEndHash()) > 0
                        ? "start_hash is above end_hash" : null;
                if (problem != null) {
                    reply(out, TakeTabletsResponse.newBuilder().setStatus(Status.INVALID_ARGUMENT).build());
                    LOG.warn("TakeTablets refused: {} in {}", problem, tablet);
                    return;
                }
            }
            if (!lease.isValid()) {
                reply(out, TakeTabletsResponse.newBuilder().setStatus(Status.RETRY).build());
                return;
            }
            long self = lease.serverId().map(ServerId::asLong).orElse(0L);
            if (request.getServerId() != 0 && request.getServerId() != self) {
                LOG.warn("TakeTablets refused: meant for server {}, this is {}", ServerId.of(request.getServerId()),
                        ServerId.of(self));
                reply(out, TakeTabletsResponse.newBuilder().setStatus(Status.WRONG_SERVER).build());
                return;
            }
            reply(out, fence.admit(request.getCoordinatorEpoch(), () -> take(request), refusal -> {
                LOG.warn("TakeTablets refused: {}", refusal);
                return TakeTabletsResponse.newBuilder().setStatus(Status.STALE_COORDINATOR).setMessage(refusal)
                        .build();
            }));
        } catch (RuntimeException e) {
            fail(out, "control.take_tablets", e);
        }
    }

    /** TakeTablets once admitted by the epoch fence: records the ranges, answers where the log stands. */
    private TakeTabletsResponse take(TakeTabletsRequest request) {
        for (OwnedTablet tablet : request.getTabletsList()) {
            if (tablets.add(tablet.getTableId(), tablet.getStartHash(), tablet.getEndHash())) {
                LOG.info("now serving {} (coordinator epoch {})", new TabletSet.Range(tablet.getTableId(),
                        tablet.getStartHash(), tablet.getEndHash()), request.getCoordinatorEpoch());
            }
        }
        TakeTabletsResponse.Builder response = TakeTabletsResponse.newBuilder().setStatus(Status.OK);
        MasterLog log = engine.log();
        log.lock();
        try {
            LogSegment head = log.head();
            response.setLogSegmentId(head.id()).setLogOffset(head.writer().position());
        } finally {
            log.unlock();
        }
        return response.build();
    }

    @Override
    public void dropTableData(DropTableDataRequest request, StreamObserver<DropTableDataResponse> out) {
        try {
            long tableId = request.getTableId();
            if (tableId == 0) {
                reply(out, DropTableDataResponse.newBuilder().setStatus(Status.INVALID_ARGUMENT).build());
                return;
            }
            // The check only (not admit-and-run): dropping a big table takes a while, and a later
            // leader's drop of the same table is idempotent anyway.
            String refusal = fence.check(request.getCoordinatorEpoch());
            if (refusal != null) {
                LOG.warn("DropTableData of table {} refused: {}", tableId, refusal);
                reply(out, DropTableDataResponse.newBuilder().setStatus(Status.STALE_COORDINATOR).setMessage(refusal)
                        .build());
                return;
            }
            int ranges = tablets.removeTable(tableId);
            long dropped = engine.dropTable(tableId);
            LOG.info("dropped table {}: {} tablet range(s), {} object(s) (coordinator epoch {})", tableId, ranges,
                    dropped, request.getCoordinatorEpoch());
            reply(out, DropTableDataResponse.newBuilder().setStatus(Status.OK).setObjectsDropped(dropped).build());
        } catch (RuntimeException e) {
            fail(out, "control.drop_table_data", e);
        }
    }

    /** How long TakeSnapshot waits for its cut to be durable before answering RETRY. */
    private static final long SNAPSHOT_DURABLE_TIMEOUT_MS = 10_000;

    @Override
    public void takeSnapshot(io.ferrite.proto.v1.TakeSnapshotRequest request,
                             StreamObserver<io.ferrite.proto.v1.TakeSnapshotResponse> out) {
        var response = io.ferrite.proto.v1.TakeSnapshotResponse.newBuilder();
        try {
            String problem = request.getTableId() == 0 ? "table_id is missing"
                    : request.getSnapshotId() == 0 ? "snapshot_id is missing"
                    : request.getTabletsCount() == 0 ? "no tablets given" : null;
            for (OwnedTablet tablet : request.getTabletsList()) {
                if (problem == null && tablet.getTableId() != request.getTableId()) {
                    problem = "a tablet of table " + tablet.getTableId() + " in a snapshot of table " + request.getTableId();
                } else if (problem == null && !tablets.owns(request.getTableId(), tablet.getStartHash())) {
                    reply(out, response.setStatus(Status.UNKNOWN_TABLET).setMessage("this master does not own "
                            + new TabletSet.Range(tablet.getTableId(), tablet.getStartHash(), tablet.getEndHash())).build());
                    return;
                }
            }
            if (problem != null) {
                reply(out, response.setStatus(Status.INVALID_ARGUMENT).setMessage(problem).build());
                return;
            }
            long self = serverId();
            if (request.getServerId() != self) {
                reply(out, response.setStatus(Status.WRONG_SERVER).setMessage("this is server " + ServerId.of(self))
                        .build());
                return;
            }
            String refusal = fence.check(request.getCoordinatorEpoch());
            if (refusal != null) {
                LOG.warn("TakeSnapshot refused: {}", refusal);
                reply(out, response.setStatus(Status.STALE_COORDINATOR).setMessage(refusal).build());
                return;
            }
            int n = request.getTabletsCount();
            long[] starts = new long[n];
            long[] ends = new long[n];
            for (int i = 0; i < n; i++) {
                starts[i] = request.getTablets(i).getStartHash();
                ends[i] = request.getTablets(i).getEndHash();
            }
            io.ferrite.master.ObjectResult position = new io.ferrite.master.ObjectResult();
            io.ferrite.master.snapshot.Snapshot snapshot = engine.takeSnapshot(request.getTableId(),
                    request.getSnapshotId(), starts, ends, position);
            if (durability.replicated() && !durability.isDurable(position.awaitPosition())) {
                try {
                    durability.whenDurable(position.awaitPosition()).get(SNAPSHOT_DURABLE_TIMEOUT_MS,
                            java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                    engine.dropSnapshot(request.getTableId(), request.getSnapshotId());
                    reply(out, response.setStatus(Status.RETRY).setMessage("the cut did not become durable within "
                            + SNAPSHOT_DURABLE_TIMEOUT_MS + " ms: " + e).build());
                    return;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    reply(out, response.setStatus(Status.RETRY).setMessage("interrupted").build());
                    return;
                }
            }
            LOG.info("took {} (coordinator epoch {})", snapshot, request.getCoordinatorEpoch());
            reply(out, response.setStatus(Status.OK).setCut(snapshot.cut()).setCreatedSeconds(snapshot.createdSeconds())
                    .setObjects(snapshot.objects()).setBytes(snapshot.bytes()).build());
        } catch (RuntimeException e) {
            fail(out, "control.take_snapshot", e);
        }
    }

    @Override
    public void dropSnapshot(io.ferrite.proto.v1.DropSnapshotRequest request,
                             StreamObserver<io.ferrite.proto.v1.DropSnapshotResponse> out) {
        var response = io.ferrite.proto.v1.DropSnapshotResponse.newBuilder();
        try {
            long self = serverId();
            if (request.getServerId() != self) {
                reply(out, response.setStatus(Status.WRONG_SERVER).setMessage("this is server " + ServerId.of(self))
                        .build());
                return;
            }
            String refusal = fence.check(request.getCoordinatorEpoch());
            if (refusal != null) {
                reply(out, response.setStatus(Status.STALE_COORDINATOR).setMessage(refusal).build());
                return;
            }
            boolean dropped = engine.dropSnapshot(request.getTableId(), request.getSnapshotId());
            if (dropped) {
                LOG.info("dropped snapshot {} of table {}", request.getSnapshotId(), request.getTableId());
            }
            reply(out, response.setStatus(dropped ? Status.OK : Status.SNAPSHOT_DOESNT_EXIST).build());
        } catch (RuntimeException e) {
            fail(out, "control.drop_snapshot", e);
        }
    }

    private static <T> void reply(StreamObserver<T> out, T response) {
        out.onNext(response);
        out.onCompleted();
    }

    private <T> void fail(StreamObserver<T> out, String where, RuntimeException e) {
        errors.report(where, e);
        out.onError(io.grpc.Status.INTERNAL.withDescription(where + " failed: " + e).asRuntimeException());
    }
}
