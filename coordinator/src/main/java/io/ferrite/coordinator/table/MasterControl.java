package io.ferrite.coordinator.table;

import io.ferrite.proto.v1.DropTableDataRequest;
import io.ferrite.proto.v1.DropTableDataResponse;
import io.ferrite.proto.v1.TakeTabletsRequest;
import io.ferrite.proto.v1.TakeTabletsResponse;
import java.util.concurrent.CompletableFuture;

/**
 * The calls the coordinator makes on masters' control services. Futures complete
 * exceptionally when the master cannot be reached or does not answer within the
 * implementation's deadline.
 */
public interface MasterControl extends AutoCloseable {
    CompletableFuture<TakeTabletsResponse> takeTablets(String address, TakeTabletsRequest request);

    CompletableFuture<DropTableDataResponse> dropTableData(String address, DropTableDataRequest request);

    CompletableFuture<io.ferrite.proto.v1.TakeSnapshotResponse> takeSnapshot(String address,
            io.ferrite.proto.v1.TakeSnapshotRequest request);

    CompletableFuture<io.ferrite.proto.v1.DropSnapshotResponse> dropSnapshot(String address,
            io.ferrite.proto.v1.DropSnapshotRequest request);

    CompletableFuture<io.ferrite.proto.v1.ServerStatsResponse> serverStats(String address);

    @Override
    void close();
}
