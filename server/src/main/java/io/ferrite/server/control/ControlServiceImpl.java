package io.ferrite.server.control;

import io.ferrite.coordinator.registry.ServerId;
import io.ferrite.master.EngineStats;
import io.ferrite.master.ObjectManager;
import io.ferrite.master.log.LogSegment;
import io.ferrite.master.log.MasterLog;
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
import io.ferrite.server.tablet.TabletSet;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.time.Instant;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's {@code ControlService}: liveness, statistics, and the coordinator's tablet
 * assignments. TakeTablets records ranges in the {@link TabletSet} the engine consults;
 * DropTableData forgets a table's ranges first (no new writes land) and then drops its objects.
 * Both are idempotent, as the coordinator re-sends them after failures.
 */
public final class ControlServiceImpl extends ControlServiceGrpc.ControlServiceImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServiceImpl.class);

    private final ObjectManager engine;
    private final TabletSet tablets;
    private final Lease lease;
    private final Supplier<EngineStats> stats;
    private final ErrorReporter errors;
    private final Clock clock;

    public ControlServiceImpl(ObjectManager engine, TabletSet tablets, Lease lease, Supplier<EngineStats> stats,
                              ErrorReporter errors, Clock clock) {
        this.engine = engine;
        this.tablets = tablets;
        this.lease = lease;
        this.stats = stats;
        this.errors = errors;
        this.clock = clock;
    }

    private long serverId() {
        return lease.serverId().map(ServerId::asLong).orElse(0L);
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
            reply(out, ServerStatsResponse.newBuilder()
                    .setServerId(serverId())
                    .setMemoryBytes(engine.context().memoryBytes())
                    .setLiveEntryBytes(s.liveEntryBytes())
                    .setLiveObjects(s.liveObjects())
                    .setLogUtilization(s.logUtilization())
                    .setHashTableBytes(s.hashTableBytes())
                    .setSegments(s.segments())
                    .setCleanerBytesMoved(s.cleaner().bytesMoved())
                    .setCleanerSegletsFreed(s.cleaner().segletsFreed())
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
            for (OwnedTablet tablet : request.getTabletsList()) {
                if (tablets.add(tablet.getTableId(), tablet.getStartHash(), tablet.getEndHash())) {
                    LOG.info("now serving {}", new TabletSet.Range(tablet.getTableId(), tablet.getStartHash(),
                            tablet.getEndHash()));
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
            reply(out, response.build());
        } catch (RuntimeException e) {
            fail(out, "control.take_tablets", e);
        }
    }

    @Override
    public void dropTableData(DropTableDataRequest request, StreamObserver<DropTableDataResponse> out) {
        try {
            long tableId = request.getTableId();
            if (tableId == 0) {
                reply(out, DropTableDataResponse.newBuilder().setStatus(Status.INVALID_ARGUMENT).build());
                return;
            }
            int ranges = tablets.removeTable(tableId);
            long dropped = engine.dropTable(tableId);
            LOG.info("dropped table {}: {} tablet range(s), {} object(s)", tableId, ranges, dropped);
            reply(out, DropTableDataResponse.newBuilder().setStatus(Status.OK).setObjectsDropped(dropped).build());
        } catch (RuntimeException e) {
            fail(out, "control.drop_table_data", e);
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
