package io.ferrite.backup;

import com.google.protobuf.ByteString;
import io.ferrite.proto.v1.ListReplicasRequest;
import io.ferrite.proto.v1.ListReplicasResponse;
import io.ferrite.proto.v1.ReadReplicaRequest;
import io.ferrite.proto.v1.ReadReplicaResponse;
import io.ferrite.proto.v1.Status;
import java.util.List;
import java.util.Optional;

/**
 * The backup's replica reads of {@code ControlService}: {@code ListReplicas} (what this backup
 * holds, of one master or of all) and {@code ReadReplica} (a replica's certified bytes), as the
 * coordinator's recovery and the tests ask them. The server's {@code ControlService} delegates
 * these calls here and turns a thrown {@link RuntimeException} (a fault, not bad input) into
 * INTERNAL; expected outcomes are statuses in the responses.
 */
public final class BackupReplicaReads {
    /** Null: this server does not run the backup service. */
    private final ReplicaStore store;

    /** @param store the backup's replica store, or null if this server does not run the backup service */
    public BackupReplicaReads(ReplicaStore store) {
        this.store = store;
    }

    /** {@code ListReplicas}: every replica held of {@code master_id}, or of every master when it is 0. */
    public ListReplicasResponse listReplicas(ListReplicasRequest request) {
        ListReplicasResponse.Builder response = ListReplicasResponse.newBuilder();
        if (store == null) {
            return response.setStatus(Status.INVALID_ARGUMENT).setMessage(NO_BACKUP).build();
        }
        List<ReplicaInfo> held = request.getMasterId() == 0 ? store.list() : store.list(request.getMasterId());
        for (ReplicaInfo r : held) {
            response.addReplicas(io.ferrite.proto.v1.ReplicaInfo.newBuilder()
                    .setMasterId(r.masterId()).setSegmentId(r.segmentId()).setEpoch(r.epoch())
                    .setLengthBytes(r.lengthBytes()).setCertificateLength(r.certificateLength())
                    .setCertificateChecksum(r.certificateChecksum()).setClosed(r.closed())
                    .setState(r.state().name()));
        }
        return response.setStatus(Status.OK).build();
    }

    /**
     * {@code ReadReplica}: the certified bytes of one replica, with its epoch and whether it is
     * closed; OBJECT_DOESNT_EXIST if this backup holds none, CORRUPT_REPLICA if it fails its
     * verification.
     */
    public ReadReplicaResponse readReplica(ReadReplicaRequest request) {
        ReadReplicaResponse.Builder response = ReadReplicaResponse.newBuilder();
        if (store == null) {
            return response.setStatus(Status.INVALID_ARGUMENT).setMessage(NO_BACKUP).build();
        }
        try {
            Optional<ReplicaInfo> info = store.list(request.getMasterId()).stream()
                    .filter(r -> r.segmentId() == request.getSegmentId()).findFirst();
            Optional<byte[]> bytes = store.read(request.getMasterId(), request.getSegmentId());
            if (bytes.isEmpty() || info.isEmpty()) {
                return response.setStatus(Status.OBJECT_DOESNT_EXIST).setMessage("no replica of segment "
                        + request.getSegmentId() + " of master " + serverName(request.getMasterId())).build();
            }
            return response.setStatus(Status.OK).setBytes(ByteString.copyFrom(bytes.get()))
                    .setEpoch(info.get().epoch()).setClosed(info.get().closed()).build();
        } catch (CorruptReplicaException e) {
            return response.setStatus(Status.CORRUPT_REPLICA).setMessage(e.getMessage()).build();
        }
    }

    static final String NO_BACKUP = "this server does not run the backup service";

    /** A server id as the cluster names it: {@code index.generation}, both unsigned. */
    private static String serverName(long serverId) {
        return Integer.toUnsignedString((int) (serverId >>> 32)) + "." + Integer.toUnsignedString((int) serverId);
    }
}
