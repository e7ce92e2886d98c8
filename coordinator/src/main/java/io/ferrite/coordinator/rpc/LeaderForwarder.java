package io.ferrite.coordinator.rpc;

import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.CreateTableRequest;
import io.ferrite.proto.v1.CreateTableResponse;
import io.ferrite.proto.v1.DropTableRequest;
import io.ferrite.proto.v1.DropTableResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A follower's path to the leader: sends a mutation to the current leader over gRPC, marked
 * as forwarded, and returns the leader's answer; empty when there is no leader or it cannot be
 * reached (the caller then answers NOT_LEADER with the leader's address if known). Keeps one
 * channel, to the latest leader.
 */
public final class LeaderForwarder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderForwarder.class);

    private final Leadership leadership;
    private final Duration timeout;
    private String channelAddress;
    private ManagedChannel channel;
    private boolean closed;

    public LeaderForwarder(Leadership leadership, Duration timeout) {
        this.leadership = leadership;
        this.timeout = timeout;
    }

    public Optional<CreateTableResponse> createTable(CreateTableRequest request) {
        return forward("CreateTable", stub -> stub.createTable(request));
    }

    public Optional<DropTableResponse> dropTable(DropTableRequest request) {
        return forward("DropTable", stub -> stub.dropTable(request));
    }

    private <T> Optional<T> forward(String method,
            Function<CoordinatorServiceGrpc.CoordinatorServiceBlockingStub, T> call) {
        Optional<String> leader = leadership.leaderAddress();
        if (leader.isEmpty() || leader.get().equals(leadership.selfAddress())) {
            return Optional.empty();
        }
        ManagedChannel target = channelTo(leader.get());
        if (target == null) {
            return Optional.empty();
        }
        Metadata headers = new Metadata();
        headers.put(Forwarding.HEADER, leadership.selfAddress());
        try {
            CoordinatorServiceGrpc.CoordinatorServiceBlockingStub stub = CoordinatorServiceGrpc.newBlockingStub(target)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                    .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return Optional.of(call.apply(stub));
        } catch (StatusRuntimeException e) {
            LOG.warn("could not forward {} to the leader at {}: {}", method, leader.get(), e.getStatus());
            return Optional.empty();
        }
    }

    private synchronized ManagedChannel channelTo(String address) {
        if (closed) {
            return null;
        }
        if (!address.equals(channelAddress)) {
            if (channel != null) {
                channel.shutdown();
            }
            channel = NettyChannelBuilder.forTarget(address).usePlaintext().build();
            channelAddress = address;
        }
        return channel;
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (channel != null) {
            channel.shutdownNow();
            channel = null;
        }
    }
}
