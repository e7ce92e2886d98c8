package io.ferrite.server.lease;

import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.HeartbeatRequest;
import io.ferrite.proto.v1.HeartbeatResponse;
import io.grpc.ConnectivityState;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * Heartbeats over gRPC: one channel per coordinator address, each heartbeat a unary call with
 * its own deadline. A channel that failed to connect is told to try again at once rather than
 * after gRPC's reconnection backoff (up to minutes), so a coordinator that comes back at the same
 * address is found by the next heartbeat.
 *
 * <p>The channels run on an event loop thread of their own, not on gRPC's shared one, which with
 * {@code data-executor=direct} also executes data calls: a master saturated with data calls must
 * still send its heartbeats and read their answers on time, or its lease would lapse.
 */
final class GrpcHeartbeats implements HeartbeatSender.Transport {
    private final Map<String, ManagedChannel> channels = new HashMap<>();
    private final EventLoopGroup eventLoop = new MultiThreadIoEventLoopGroup(1,
            new DefaultThreadFactory("ferrite-heartbeat-io", true), NioIoHandler.newFactory());
    private boolean closed;

    @Override
    public void send(String address, HeartbeatRequest request, long timeoutNs,
                     BiConsumer<HeartbeatResponse, Throwable> done) {
        ManagedChannel channel;
        try {
            channel = channel(address);
        } catch (RuntimeException e) {
            done.accept(null, e);
            return;
        }
        if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
            channel.resetConnectBackoff();
        }
        Context.ROOT.run(() -> {
            try {
                CoordinatorServiceGrpc.newStub(channel).withDeadlineAfter(timeoutNs, TimeUnit.NANOSECONDS)
                        .heartbeat(request, new StreamObserver<>() {
                            private boolean answered;

                            @Override
                            public void onNext(HeartbeatResponse response) {
                                answered = true;
                                done.accept(response, null);
                            }

                            @Override
                            public void onError(Throwable t) {
                                if (!answered) {
                                    done.accept(null, t);
                                }
                            }

                            @Override
                            public void onCompleted() {
                                if (!answered) {
                                    done.accept(null, new IllegalStateException("heartbeat ended without an answer"));
                                }
                            }
                        });
            } catch (RuntimeException e) {
                done.accept(null, e);
            }
        });
    }

    private synchronized ManagedChannel channel(String address) {
        if (closed) {
            throw new IllegalStateException("heartbeats stopped");
        }
        return channels.computeIfAbsent(address, a -> NettyChannelBuilder.forTarget(a).usePlaintext()
                .eventLoopGroup(eventLoop).channelType(NioSocketChannel.class).build());
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (ManagedChannel channel : channels.values()) {
            channel.shutdownNow();
        }
        channels.clear();
        eventLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
