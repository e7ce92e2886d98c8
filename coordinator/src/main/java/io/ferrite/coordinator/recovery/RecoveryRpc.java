package io.ferrite.coordinator.recovery;

import io.ferrite.proto.v1.FreeMasterReplicasResponse;
import io.ferrite.proto.v1.ReadReplicaResponse;
import io.ferrite.proto.v1.RecoverPartitionRequest;
import io.ferrite.proto.v1.RecoverPartitionResponse;
import io.ferrite.proto.v1.ReplicaInfo;
import java.util.List;

/**
 * The calls recovery makes to servers (gRPC in production, {@link GrpcRecoveryRpc}; fakes in
 * tests). Any of them may throw {@link RecoveryRpcException} when the server does not answer.
 */
public interface RecoveryRpc {
    /** Makes a backup refuse every later message of a crashed master; true once it has. */
    boolean fenceMaster(String backup, long masterId, long coordinatorEpoch);

    /** The replicas a backup holds of one master's log. */
    List<ReplicaInfo> listReplicas(String backup, long masterId);

    /** The certified bytes of one replica (to read the head's digest). */
    ReadReplicaResponse readReplica(String backup, long masterId, long segmentId);

    /** Asks a master to recover a partition; blocks until it answers. */
    RecoverPartitionResponse recoverPartition(String master, RecoverPartitionRequest request);

    /** Asks a backup to drop every replica of a recovered master. */
    FreeMasterReplicasResponse freeMasterReplicas(String backup, long masterId, long coordinatorEpoch);

    /** A server did not answer (unreachable, deadline, internal error). */
    final class RecoveryRpcException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public RecoveryRpcException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
