package io.ferrite.backup;

import com.google.protobuf.ByteString;
import io.ferrite.log.KeyRanges;
import io.ferrite.proto.v1.BackupRecoveryServiceGrpc;
import io.ferrite.proto.v1.FreeMasterReplicasRequest;
import io.ferrite.proto.v1.FreeMasterReplicasResponse;
import io.ferrite.proto.v1.KeyHashRange;
import io.ferrite.proto.v1.ReadRecoveryDataRequest;
import io.ferrite.proto.v1.ReadRecoveryDataResponse;
import io.ferrite.proto.v1.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backup's edge for crash recovery: recovery masters read the entries of their partition
 * out of this backup's replicas of a crashed master's log (filtered here, so only what a
 * partition needs crosses the network), and the coordinator frees those replicas once the
 * master's recovery is done.
 */
public final class BackupRecoveryServiceImpl extends BackupRecoveryServiceGrpc.BackupRecoveryServiceImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(BackupRecoveryServiceImpl.class);

    private final ReplicaStore store;
    private final LongPredicate masterLive;
    private final LongPredicate admitCoordinatorEpoch;
    private final java.util.function.LongConsumer fence;
    private final ThreadLocal<RecoveryFilter> filters = ThreadLocal.withInitial(RecoveryFilter::new);
    private final AtomicLong bytesRead = new AtomicLong();
    private final AtomicLong bytesSent = new AtomicLong();

    /**
     * @param masterLive            whether a master is live in the cluster (its replicas are never freed here then)
     * @param admitCoordinatorEpoch the coordinator fencing check: false for a deposed leader's epoch
     * @param fence                 makes this backup refuse every later message of a master
     */
    public BackupRecoveryServiceImpl(ReplicaStore store, LongPredicate masterLive, LongPredicate admitCoordinatorEpoch,
                                     java.util.function.LongConsumer fence) {
        this.fence = fence;
        this.store = store;
        this.masterLive = masterLive;
        this.admitCoordinatorEpoch = admitCoordinatorEpoch;
    }

    /** Replica bytes read for recovery, and entry bytes sent, since start. */
    public long bytesRead() {
        return bytesRead.get();
    }

    public long bytesSent() {
        return bytesSent.get();
    }

    @Override
    public void readRecoveryData(ReadRecoveryDataRequest request, StreamObserver<ReadRecoveryDataResponse> out) {
        var response = ReadRecoveryDataResponse.newBuilder();
        try {
            KeyRanges ranges;
            try {
                ranges = ranges(request.getRangesList());
            } catch (IllegalArgumentException e) {
                reply(out, response.setStatus(Status.INVALID_ARGUMENT).setMessage(e.getMessage()).build());
                return;
            }
            if (request.getMasterId() == 0 || ranges.isEmpty()) {
                reply(out, response.setStatus(Status.INVALID_ARGUMENT)
                        .setMessage("master_id and at least one range are required").build());
                return;
            }
            Optional<ReplicaStore.CertifiedReplica> replica = store.readCertified(request.getMasterId(),
                    request.getSegmentId());
            if (replica.isEmpty() || replica.get().epoch() != request.getEpoch()) {
                reply(out, response.setStatus(Status.OBJECT_DOESNT_EXIST).setMessage("no replica of segment "
                        + request.getSegmentId() + " epoch " + request.getEpoch() + " of master "
                        + Long.toHexString(request.getMasterId()) + (replica.isEmpty() ? ""
                        : " (this backup holds epoch " + replica.get().epoch() + ")")).build());
                return;
            }
            ReplicaStore.CertifiedReplica r = replica.get();
            RecoveryFilter.Result result = filters.get().filter(request.getMasterId(), request.getSegmentId(),
                    r.certificate(), r.bytes(), ranges);
            bytesRead.addAndGet(r.bytes().length);
            bytesSent.addAndGet(result.entries().length);
            reply(out, response.setStatus(Status.OK).setEntries(ByteString.copyFrom(result.entries()))
                    .setCertifiedLength(r.certificate().lengthBytes()).setEntriesScanned(result.scanned()).build());
        } catch (CorruptReplicaException e) {
            LOG.warn("recovery read refused: {}", e.getMessage());
            reply(out, response.setStatus(Status.CORRUPT_REPLICA).setMessage(e.getMessage()).build());
        } catch (RuntimeException e) {
            LOG.error("recovery read of segment {} of master {} failed", request.getSegmentId(),
                    Long.toHexString(request.getMasterId()), e);
            out.onError(io.grpc.Status.INTERNAL.withDescription("read_recovery_data failed: " + e).asRuntimeException());
        }
    }

    @Override
    public void fenceMaster(io.ferrite.proto.v1.FenceMasterRequest request,
                            StreamObserver<io.ferrite.proto.v1.FenceMasterResponse> out) {
        var response = io.ferrite.proto.v1.FenceMasterResponse.newBuilder();
        if (request.getMasterId() == 0) {
            reply(out, response.setStatus(Status.INVALID_ARGUMENT).build());
            return;
        }
        if (!admitCoordinatorEpoch.test(request.getCoordinatorEpoch())) {
            reply(out, response.setStatus(Status.STALE_COORDINATOR).build());
            return;
        }
        if (masterLive.test(request.getMasterId())) {
            reply(out, response.setStatus(Status.RETRY).build());
            return;
        }
        fence.accept(request.getMasterId());
        reply(out, response.setStatus(Status.OK).build());
    }

    @Override
    public void freeMasterReplicas(FreeMasterReplicasRequest request, StreamObserver<FreeMasterReplicasResponse> out) {
        var response = FreeMasterReplicasResponse.newBuilder();
        if (request.getMasterId() == 0) {
            reply(out, response.setStatus(Status.INVALID_ARGUMENT).build());
            return;
        }
        if (!admitCoordinatorEpoch.test(request.getCoordinatorEpoch())) {
            reply(out, response.setStatus(Status.STALE_COORDINATOR).build());
            return;
        }
        if (masterLive.test(request.getMasterId())) {
            LOG.warn("refused to free the replicas of master {}: it is live in the cluster",
                    Long.toHexString(request.getMasterId()));
            reply(out, response.setStatus(Status.RETRY).build());
            return;
        }
        int freed = store.freeMaster(request.getMasterId());
        if (freed > 0) {
            LOG.info("freed {} replica(s) of recovered master {}", freed, Long.toHexString(request.getMasterId()));
        }
        reply(out, response.setStatus(Status.OK).setReplicasFreed(freed).build());
    }

    static KeyRanges ranges(List<KeyHashRange> ranges) {
        List<KeyRanges.Range> out = new ArrayList<>(ranges.size());
        for (KeyHashRange r : ranges) {
            out.add(new KeyRanges.Range(r.getTableId(), r.getStartHash(), r.getEndHash()));
        }
        return KeyRanges.of(out);
    }

    private static <T> void reply(StreamObserver<T> out, T response) {
        out.onNext(response);
        out.onCompleted();
    }
}
