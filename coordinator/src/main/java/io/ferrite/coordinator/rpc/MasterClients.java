package io.ferrite.coordinator.rpc;

import io.ferrite.coordinator.table.MasterControl;
import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.DropTableDataRequest;
import io.ferrite.proto.v1.DropTableDataResponse;
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

/**
 * {@link MasterControl} over gRPC: one channel per master address, every call with its own
 * deadline. Calls run in the root gRPC context, so a client that gives up on a CreateTable or
 * DropTable does not cancel the calls to masters that the leader has already committed to.
 */
public final class MasterClients implements MasterControl {
    private final Duration timeout;
    private final Map<String, ManagedChannel> channels = new HashMap<>();
    private boolean closed;

    public MasterClients(Duration timeout) {
        this.timeout = timeout;
    }

    @Override
    public CompletableFuture<TakeTabletsResponse> takeTablets(String address, TakeTabletsRequest request) {
        CompletableFuture<TakeTabletsResponse> result = new CompletableFuture<>();
        Context.ROOT.run(() -> {
            try {
                stub(address).takeTablets(request, observer(result));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    @Override
    public CompletableFuture<DropTableDataResponse> dropTableData(String address, DropTableDataRequest request) {
        CompletableFuture<DropTableDataResponse> result = new CompletableFuture<>();
        Context.ROOT.run(() -> {
            try {
                stub(address).dropTableData(request, observer(result));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
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
