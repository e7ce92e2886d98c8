package io.ferrite.backup;

import com.google.protobuf.UnsafeByteOperations;
import io.ferrite.log.KeyRanges;
import io.ferrite.proto.v1.BackupRecoveryServiceGrpc;
import io.ferrite.proto.v1.FreeMasterReplicasRequest;
import io.ferrite.proto.v1.FreeMasterReplicasResponse;
import io.ferrite.proto.v1.KeyHashRange;
import io.ferrite.proto.v1.ReadRecoveryDataRequest;
import io.ferrite.proto.v1.ReadRecoveryDataResponse;
import io.ferrite.proto.v1.RecoveryPartition;
import io.ferrite.proto.v1.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    /** Default memory for cut parts waiting for their requests. */
    public static final long DEFAULT_CUTS_BUDGET_BYTES = 256L << 20;

    private final ReplicaStore store;
    private final LongPredicate masterLive;
    private final LongPredicate admitCoordinatorEpoch;
    private final java.util.function.LongConsumer fence;
    private final ThreadLocal<RecoveryFilter> filters = ThreadLocal.withInitial(RecoveryFilter::new);
    private final RecoveryCuts cuts;
    private final AtomicLong replicasCut = new AtomicLong();
    private final AtomicLong bytesRead = new AtomicLong();
    private final AtomicLong bytesSent = new AtomicLong();

    /**
     * @param masterLive            whether a master is live in the cluster (its replicas are never freed here then)
     * @param admitCoordinatorEpoch the coordinator fencing check: false for a deposed leader's epoch
     * @param fence                 makes this backup refuse every later message of a master
     */
    public BackupRecoveryServiceImpl(ReplicaStore store, LongPredicate masterLive, LongPredicate admitCoordinatorEpoch,
                                     java.util.function.LongConsumer fence) {
        this(store, masterLive, admitCoordinatorEpoch, fence, DEFAULT_CUTS_BUDGET_BYTES);
    }

    /**
     * @param cutsBudgetBytes memory for the parts of replicas cut for partitions whose requests have not come
     *                        yet (beyond it, a partition's request reads the replica again)
     */
    public BackupRecoveryServiceImpl(ReplicaStore store, LongPredicate masterLive, LongPredicate admitCoordinatorEpoch,
                                     java.util.function.LongConsumer fence, long cutsBudgetBytes) {
        this.cuts = new RecoveryCuts(cutsBudgetBytes, System::nanoTime);
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

    /** Replicas read and cut for recovery, and partitions' parts served without reading again. */
    public long replicasCut() {
        return replicasCut.get();
    }

    public long partsServedFromCuts() {
        return cuts.taken();
    }

    @Override
    public void readRecoveryData(ReadRecoveryDataRequest request, StreamObserver<ReadRecoveryDataResponse> out) {
        var response = ReadRecoveryDataResponse.newBuilder();
        long masterId = request.getMasterId();
        long segmentId = request.getSegmentId();
        long epoch = request.getEpoch();
        try {
            KeyRanges ranges;
            List<KeyRanges> partitions = new ArrayList<>();
            try {
                ranges = ranges(request.getRangesList());
                partitions.add(ranges);
                for (RecoveryPartition other : request.getOtherPartitionsList()) {
                    KeyRanges o = ranges(other.getRangesList());
                    if (!o.isEmpty() && !partitions.contains(o)) {
                        partitions.add(o);
                    }
                }
            } catch (IllegalArgumentException e) {
                reply(out, response.setStatus(Status.INVALID_ARGUMENT).setMessage(e.getMessage()).build());
                return;
            }
            if (masterId == 0 || ranges.isEmpty()) {
                reply(out, response.setStatus(Status.INVALID_ARGUMENT)
                        .setMessage("master_id and at least one range are required").build());
                return;
            }
            Optional<ReplicaInfo> info = store.info(masterId, segmentId);
            if (info.isEmpty() || info.get().epoch() != epoch) {
                reply(out, noReplica(request, info.map(ReplicaInfo::epoch)));
                return;
            }
            RecoveryFilter.Part part = cuts.takeOrClaim(masterId, segmentId, epoch, ranges,
                    info.get().certificateLength());
            int certifiedLength = info.get().certificateLength();
            if (part == null) {
                try {
                    Optional<ReplicaStore.CertifiedReplica> replica = store.readCertified(masterId, segmentId);
                    if (replica.isEmpty() || replica.get().epoch() != epoch) {
                        reply(out, noReplica(request, replica.map(ReplicaStore.CertifiedReplica::epoch)));
                        return;
                    }
                    ReplicaStore.CertifiedReplica r = replica.get();
                    certifiedLength = r.certificate().lengthBytes();
                    RecoveryFilter.Cut cut = filters.get().cut(masterId, segmentId, r.certificate(), r.bytes(),
                            partitions);
                    bytesRead.addAndGet(r.bytes().length);
                    replicasCut.incrementAndGet();
                    Map<KeyRanges, RecoveryFilter.Part> others = new LinkedHashMap<>(cut.parts());
                    part = others.remove(ranges);
                    cuts.keep(masterId, segmentId, epoch, certifiedLength, others);
                } finally {
                    cuts.release(masterId, segmentId, epoch);
                }
            }
            bytesSent.addAndGet(part.length());
            reply(out, response.setStatus(Status.OK)
                    .setEntries(UnsafeByteOperations.unsafeWrap(part.entries(), 0, part.length()))
                    .setCertifiedLength(certifiedLength).setEntriesScanned(part.scanned()).build());
        } catch (CorruptReplicaException e) {
            LOG.warn("recovery read refused: {}", e.getMessage());
            reply(out, response.setStatus(Status.CORRUPT_REPLICA).setMessage(e.getMessage()).build());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            out.onError(io.grpc.Status.UNAVAILABLE.withDescription("interrupted: the backup is stopping")
                    .asRuntimeException());
        } catch (RuntimeException e) {
            LOG.error("recovery read of segment {} of master {} failed", segmentId, Long.toHexString(masterId), e);
            out.onError(io.grpc.Status.INTERNAL.withDescription("read_recovery_data failed: " + e).asRuntimeException());
        }
    }

    private static ReadRecoveryDataResponse noReplica(ReadRecoveryDataRequest request, Optional<Long> heldEpoch) {
        return ReadRecoveryDataResponse.newBuilder().setStatus(Status.OBJECT_DOESNT_EXIST).setMessage("no replica of"
                + " segment " + request.getSegmentId() + " epoch " + request.getEpoch() + " of master "
                + Long.toHexString(request.getMasterId())
                + heldEpoch.map(e -> " (this backup holds epoch " + e + ")").orElse("")).build();
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
        cuts.dropMaster(request.getMasterId());
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
