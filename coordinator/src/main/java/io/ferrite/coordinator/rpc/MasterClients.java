package io.ferrite.coordinator.rpc;

import io.ferrite.coordinator.membership.Prober;
import io.ferrite.coordinator.table.MasterControl;
import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.DropTableDataRequest;
import io.ferrite.proto.v1.DropTableDataResponse;
import io.ferrite.proto.v1.PingRequest;
import io.ferrite.proto.v1.TakeTabletsRequest;
import io.ferrite.proto.v1.TakeTabletsResponse;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * {@link MasterControl} over gRPC: one channel per master address, every call with its own
 * deadline. Calls run in the root gRPC context, so a client that gives up on a CreateTable or
 * DropTable does not cancel the calls to masters that the leader has already committed to.
 *
 * <p>Every call that moves or drops data carries this coordinator's leader epoch
 * ({@code coordinator_epoch}, read from {@link Leadership#epoch()} when the call is made), so a
 * master refuses it once a newer leader has spoken to it. The failure detector's probes
 * ({@link Prober}) go through the same channels.
 */
public final class MasterClients implements MasterControl, Prober {
    private final Duration timeout;
    private final LongSupplier epoch;
    private final Map<String, ManagedChannel> channels = new HashMap<>();
    private boolean closed;

    /**
     * @param timeout deadline of TakeTablets and DropTableData
     * @param epoch   the current leader epoch ({@link Leadership#epoch()}), set on every call that
     *                moves or drops data
     */
    public MasterClients(Duration timeout, LongSupplier epoch) {
        this.timeout = timeout;
        this.epoch = epoch;
    }

    /** The epoch calls are made with now (0: not leader; masters refuse such calls). */
    public long epoch() {
        return epoch.getAsLong();
    }

    @Override
    public CompletableFuture<TakeTabletsResponse> takeTablets(String address, TakeTabletsRequest request) {
        CompletableFuture<TakeTabletsResponse> result = new CompletableFuture<>();
        TakeTabletsRequest fenced = request.toBuilder().setCoordinatorEpoch(epoch.getAsLong()).build();
        Context.ROOT.run(() -> {
            try {
                stub(address).takeTablets(fenced, observer(result));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    @Override
    public CompletableFuture<DropTableDataResponse> dropTableData(String address, DropTableDataRequest request) {
        CompletableFuture<DropTableDataResponse> result = new CompletableFuture<>();
        DropTableDataRequest fenced = request.toBuilder().setCoordinatorEpoch(epoch.getAsLong()).build();
        Context.ROOT.run(() -> {
            try {
                stub(address).dropTableData(fenced, observer(result));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    @Override
    public CompletableFuture<io.ferrite.proto.v1.TakeSnapshotResponse> takeSnapshot(String address,
            io.ferrite.proto.v1.TakeSnapshotRequest request) {
        var fenced = request.toBuilder().setCoordinatorEpoch(epoch.getAsLong()).build();
        return call(address, (stub, out) -> stub.takeSnapshot(fenced, out));
    }

    @Override
    public CompletableFuture<io.ferrite.proto.v1.DropSnapshotResponse> dropSnapshot(String address,
            io.ferrite.proto.v1.DropSnapshotRequest request) {
        var fenced = request.toBuilder().setCoordinatorEpoch(epoch.getAsLong()).build();
        return call(address, (stub, out) -> stub.dropSnapshot(fenced, out));
    }

    @Override
    public CompletableFuture<io.ferrite.proto.v1.ServerStatsResponse> serverStats(String address) {
        return call(address, (stub, out) -> stub.serverStats(io.ferrite.proto.v1.ServerStatsRequest.getDefaultInstance(),
                out));
    }

    /** One unary control call outside the caller's gRPC context, its answer as a future. */
    private <T> CompletableFuture<T> call(String address,
            java.util.function.BiConsumer<ControlServiceGrpc.ControlServiceStub, StreamObserver<T>> rpc) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Context.ROOT.run(() -> {
            try {
                rpc.accept(stub(address), observer(result));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    /**
     * A probe: {@code ControlService.Ping} with its own deadline, on a channel whose reconnection
     * backoff is reset first (a channel still backing off from an earlier failure would fail the
     * probe without trying).
     */
    @Override
    public CompletableFuture<Long> ping(String address, long timeoutNs) {
        CompletableFuture<io.ferrite.proto.v1.PingResponse> answer = new CompletableFuture<>();
        Context.ROOT.run(() -> {
            try {
                ManagedChannel channel = channel(address);
                channel.resetConnectBackoff();
                ControlServiceGrpc.newStub(channel).withDeadlineAfter(timeoutNs, TimeUnit.NANOSECONDS)
                        .ping(PingRequest.getDefaultInstance(), observer(answer));
            } catch (RuntimeException e) {
                answer.completeExceptionally(e);
            }
        });
        return answer.thenApply(io.ferrite.proto.v1.PingResponse::getServerId);
    }

    private ControlServiceGrpc.ControlServiceStub stub(String address) {
        return ControlServiceGrpc.newStub(channel(address)).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private synchronized ManagedChannel channel(String address) {
        if (closed) {
            throw new IllegalStateException("master clients are closed");
        }
        return channels.computeIfAbsent(address, a -> NettyChannelBuilder.forTarget(a).usePlaintext().build());
    }

    private static <T> StreamObserver<T> observer(CompletableFuture<T> result) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                if (!result.isDone()) {
                    result.completeExceptionally(new IllegalStateException("call ended without a response"));
                }
            }
        };
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (ManagedChannel channel : channels.values()) {
            channel.shutdownNow();
        }
        channels.clear();
    }
}
