package io.ferrite.backup;

import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.SegmentReplicas;
import io.ferrite.proto.v1.ServerStatsRequest;
import io.ferrite.proto.v1.ServerStatsResponse;
import io.grpc.Channel;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * The backup's reconciliation question to a master ({@link BackupService.MasterDirectory}) over
 * gRPC: which replicas it keeps where, from its {@code ControlService.ServerStats}. The calls
 * block, so they run on the executor given, never on the backup's agent thread. It answers
 * {@link #ask} only: whether a master's recovery is over ({@code recovered}) is read from
 * ZooKeeper by the server, which adds it.
 */
public final class GrpcMasterDirectory implements BackupService.MasterDirectory {
    /** Longest wait for a master's answer to a reconciliation question. */
    static final long DEADLINE_MS = 10_000;

    private final LongFunction<Optional<String>> upMasterAddress;
    private final Function<String, Channel> channels;
    private final Executor executor;

    /**
     * @param upMasterAddress the address (host:port) of a master the cluster lists as UP; empty
     *                        if it does not (not registered yet, crashed, removed)
     * @param channels        a channel to an address, kept and closed by the caller; called on
     *                        {@code executor} only
     * @param executor        runs the blocking calls
     */
    public GrpcMasterDirectory(LongFunction<Optional<String>> upMasterAddress, Function<String, Channel> channels,
                               Executor executor) {
        this.upMasterAddress = upMasterAddress;
        this.channels = channels;
        this.executor = executor;
    }

    /**
     * Asks the master on the executor. Empty (keep everything) if the master is not UP, if
     * another server answers at its address (this generation is gone: crash recovery may need
     * its replicas), or if its replication sender did not answer in time.
     */
    @Override
    public CompletableFuture<Optional<ReplicaStore.MasterReplicas>> ask(long masterId) {
        return CompletableFuture.supplyAsync(() -> {
            Optional<String> address = upMasterAddress.apply(masterId);
            if (address.isEmpty()) {
                return Optional.empty(); // kept for recovery
            }
            ServerStatsResponse stats = ControlServiceGrpc.newBlockingStub(channels.apply(address.get()))
                    .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                    .serverStats(ServerStatsRequest.getDefaultInstance());
            return replicasOf(masterId, stats);
        }, executor);
    }

    /**
     * What a master's {@code ServerStats} says about its replicas: empty if another server
     * answered or the master's replication sender did not give its placement.
     */
    static Optional<ReplicaStore.MasterReplicas> replicasOf(long masterId, ServerStatsResponse stats) {
        if (stats.getServerId() != masterId || !stats.getPlacementKnown()) {
            return Optional.empty();
        }
        Map<Long, Set<Long>> bySegment = new HashMap<>();
        for (SegmentReplicas segment : stats.getSegmentReplicasList()) {
            bySegment.put(segment.getSegmentId(), Set.copyOf(segment.getBackupIdsList()));
        }
        return Optional.of(new ReplicaStore.MasterReplicas(masterId, stats.getLogFullyReplicated(),
                stats.getHighestSegmentId(), bySegment));
    }
}
