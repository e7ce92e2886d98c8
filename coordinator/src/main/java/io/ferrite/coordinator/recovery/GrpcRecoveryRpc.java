package io.ferrite.coordinator.recovery;

import io.ferrite.proto.v1.BackupRecoveryServiceGrpc;
import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.FreeMasterReplicasRequest;
import io.ferrite.proto.v1.FreeMasterReplicasResponse;
import io.ferrite.proto.v1.ListReplicasRequest;
import io.ferrite.proto.v1.MasterRecoveryServiceGrpc;
import io.ferrite.proto.v1.ReadReplicaRequest;
import io.ferrite.proto.v1.ReadReplicaResponse;
import io.ferrite.proto.v1.RecoverPartitionRequest;
import io.ferrite.proto.v1.RecoverPartitionResponse;
import io.ferrite.proto.v1.ReplicaInfo;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** {@link RecoveryRpc} over gRPC, one channel per server address. */
public final class GrpcRecoveryRpc implements RecoveryRpc, AutoCloseable {
    /** A replica read carries up to a segment (8 MiB by default). */
    private static final int MAX_MESSAGE_BYTES = 64 << 20;

    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final Duration callTimeout;
    private final Duration recoverTimeout;

    /**
     * @param callTimeout    deadline of the short calls (list, read, free)
     * @param recoverTimeout deadline of one partition's recovery on its master
     */
    public GrpcRecoveryRpc(Duration callTimeout, Duration recoverTimeout) {
        this.callTimeout = callTimeout;
        this.recoverTimeout = recoverTimeout;
    }

    private ManagedChannel channel(String address) {
        return channels.computeIfAbsent(address, a -> NettyChannelBuilder.forTarget(a).usePlaintext()
                .maxInboundMessageSize(MAX_MESSAGE_BYTES).build());
    }

    @Override
    public boolean fenceMaster(String backup, long masterId, long coordinatorEpoch) {
        try {
            return BackupRecoveryServiceGrpc.newBlockingStub(channel(backup))
                    .withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .fenceMaster(io.ferrite.proto.v1.FenceMasterRequest.newBuilder().setMasterId(masterId)
                            .setCoordinatorEpoch(coordinatorEpoch).build())
                    .getStatus() == io.ferrite.proto.v1.Status.OK;
        } catch (StatusRuntimeException e) {
            throw new RecoveryRpcException("FenceMaster on " + backup + ": " + e.getStatus(), e);
        }
    }

    @Override
    public List<ReplicaInfo> listReplicas(String backup, long masterId) {
        try {
            return ControlServiceGrpc.newBlockingStub(channel(backup))
                    .withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .listReplicas(ListReplicasRequest.newBuilder().setMasterId(masterId).build()).getReplicasList();
        } catch (StatusRuntimeException e) {
            throw new RecoveryRpcException("ListReplicas on " + backup + ": " + e.getStatus(), e);
        }
    }

    @Override
    public ReadReplicaResponse readReplica(String backup, long masterId, long segmentId) {
        try {
            return ControlServiceGrpc.newBlockingStub(channel(backup))
                    .withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .readReplica(ReadReplicaRequest.newBuilder().setMasterId(masterId).setSegmentId(segmentId).build());
        } catch (StatusRuntimeException e) {
            throw new RecoveryRpcException("ReadReplica on " + backup + ": " + e.getStatus(), e);
        }
    }

    @Override
    public RecoverPartitionResponse recoverPartition(String master, RecoverPartitionRequest request) {
        try {
            return MasterRecoveryServiceGrpc.newBlockingStub(channel(master))
                    .withDeadlineAfter(recoverTimeout.toMillis(), TimeUnit.MILLISECONDS).recoverPartition(request);
        } catch (StatusRuntimeException e) {
            throw new RecoveryRpcException("RecoverPartition on " + master + ": " + e.getStatus(), e);
        }
    }

    @Override
    public FreeMasterReplicasResponse freeMasterReplicas(String backup, long masterId, long coordinatorEpoch) {
        try {
            return BackupRecoveryServiceGrpc.newBlockingStub(channel(backup))
                    .withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .freeMasterReplicas(FreeMasterReplicasRequest.newBuilder().setMasterId(masterId)
                            .setCoordinatorEpoch(coordinatorEpoch).build());
        } catch (StatusRuntimeException e) {
            throw new RecoveryRpcException("FreeMasterReplicas on " + backup + ": " + e.getStatus(), e);
        }
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
