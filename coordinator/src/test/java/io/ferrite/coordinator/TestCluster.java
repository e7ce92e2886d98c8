package io.ferrite.coordinator;

import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.test.TestingServer;

/**
 * One test's cluster on a shared in-process ZooKeeper: a fresh cluster name, coordinators on
 * ephemeral ports, fake masters, and client channels; closes everything it started.
 */
final class TestCluster implements AutoCloseable {
    private static final AtomicInteger CLUSTERS = new AtomicInteger();

    final TestingServer zk;
    final String name;
    private final List<AutoCloseable> resources = new ArrayList<>();

    TestCluster(TestingServer zk) {
        this.zk = zk;
        this.name = "test-" + CLUSTERS.incrementAndGet();
    }

    CoordinatorContext context() {
        return new CoordinatorContext()
                .zkConnect(zk.getConnectString())
                .cluster(name)
                .listenHost("127.0.0.1")
                .listenPort(0)
                .sessionTimeoutMs(5_000)
                .masterRpcTimeoutMs(2_000)
                .forwardTimeoutMs(5_000)
                .retryIntervalMs(500);
    }

    Coordinator coordinator() throws IOException, InterruptedException {
        Coordinator coordinator = Coordinator.start(context().conclude());
        resources.add(coordinator);
        return coordinator;
    }

    FakeMaster master(String serverName, String... services) throws IOException, InterruptedException {
        FakeMaster master = FakeMaster.start(zk.getConnectString(), name, serverName, services);
        resources.add(master);
        return master;
    }

    CoordinatorServiceGrpc.CoordinatorServiceBlockingStub client(Coordinator coordinator) {
        ManagedChannel channel = NettyChannelBuilder.forTarget(coordinator.address()).usePlaintext().build();
        resources.add(() -> {
            channel.shutdownNow();
            channel.awaitTermination(5, TimeUnit.SECONDS);
        });
        return CoordinatorServiceGrpc.newBlockingStub(channel).withInterceptors(new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options,
                    Channel next) {
                return next.newCall(method, options.withDeadlineAfter(20, TimeUnit.SECONDS));
            }
        });
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                if (first == null) {
                    first = new IllegalStateException("closing the test cluster", e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
