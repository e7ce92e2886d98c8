package io.ferrite.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ferrite.coordinator.registry.ServerId;
import io.ferrite.coordinator.registry.ServerRegistry;
import io.ferrite.proto.v1.ClusterStatusRequest;
import io.ferrite.proto.v1.ClusterStatusResponse;
import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.ListServersRequest;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import java.time.Duration;
import java.util.List;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FailureDetectionTest {
    /** Declaring a crash must be quick once the session has ended (DESIGN: detection under 1 s). */
    private static final Duration DEADLINE = Duration.ofSeconds(3);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static TestingServer zk;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        zk = new TestingServer(true);
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        zk.close();
    }

    private static ServerStatus status(CoordinatorServiceGrpc.CoordinatorServiceBlockingStub client, ServerId id) {
        for (ServerInfo server : client.listServers(ListServersRequest.getDefaultInstance()).getServersList()) {
            if (server.getServerId() == id.asLong()) {
                return server.getStatus();
            }
        }
        return null;
    }

    @Test
    void aServerWhoseLivenessNodeDisappearsIsDeclaredCrashed() throws Exception {
        try (TestCluster cluster = new TestCluster(zk)) {
            Coordinator coordinator = cluster.coordinator();
            assertThat(coordinator.awaitLeadership(TIMEOUT)).isTrue();
            var client = cluster.client(coordinator);
            FakeMaster stays = cluster.master("stays");
            FakeMaster dies = cluster.master("dies");
            await().atMost(TIMEOUT).until(() -> status(client, dies.id) == ServerStatus.UP);

            dies.close(); // ends its ZooKeeper session: the ephemeral liveness node goes at once

            await().atMost(DEADLINE).until(() -> status(client, dies.id) != ServerStatus.UP); // CRASHED, then REMOVED once its recovery is decided
            assertThat(status(client, stays.id)).isEqualTo(ServerStatus.UP);
            ClusterStatusResponse clusterStatus = client.clusterStatus(ClusterStatusRequest.getDefaultInstance());
            assertThat(clusterStatus.getServersUp()).isEqualTo(1);
            // CRASHED until its recovery is decided (at once: it owns nothing), then REMOVED.
            assertThat(status(client, dies.id)).isIn(ServerStatus.CRASHED, ServerStatus.REMOVED);
        }
    }

    @Test
    void aRestartedServerReplacesItsOlderGenerationEvenBeforeItsSessionExpires() throws Exception {
        // One address for both generations, where only the new one answers probes.
        java.util.concurrent.atomic.AtomicLong answering = new java.util.concurrent.atomic.AtomicLong();
        io.grpc.Server pings = io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder
                .forAddress(new java.net.InetSocketAddress("127.0.0.1", 0))
                .addService(new io.ferrite.proto.v1.ControlServiceGrpc.ControlServiceImplBase() {
                    @Override
                    public void ping(io.ferrite.proto.v1.PingRequest request,
                                     io.grpc.stub.StreamObserver<io.ferrite.proto.v1.PingResponse> out) {
                        out.onNext(io.ferrite.proto.v1.PingResponse.newBuilder().setServerId(answering.get()).build());
                        out.onCompleted();
                    }
                }).build().start();
        String address = "127.0.0.1:" + pings.getPort();
        try (TestCluster cluster = new TestCluster(zk);
                ServerRegistry oldRun = ServerRegistry.connect(zk.getConnectString(), cluster.name, TIMEOUT, TIMEOUT);
                ServerRegistry newRun = ServerRegistry.connect(zk.getConnectString(), cluster.name, TIMEOUT, TIMEOUT)) {
            Coordinator coordinator = cluster.coordinator();
            assertThat(coordinator.awaitLeadership(TIMEOUT)).isTrue();
            var client = cluster.client(coordinator);
            ServerId first = oldRun.register("node", address, List.of("master"), null);
            answering.set(first.asLong());
            // The old process still holds its session (and liveness node) when the new one registers.
            ServerId second = newRun.register("node", address, List.of("master"), null);
            answering.set(second.asLong());
            assertThat(second).isEqualTo(first.nextGeneration());

            await().atMost(DEADLINE).until(() -> status(client, first) != ServerStatus.UP); // CRASHED, then REMOVED once its recovery is decided
            assertThat(status(client, second)).isEqualTo(ServerStatus.UP);
        } finally {
            pings.shutdownNow();
        }
    }

    @Test
    void aCrashWhileNoCoordinatorRunsIsFoundByTheNextLeader() throws Exception {
        try (TestCluster cluster = new TestCluster(zk)) {
            FakeMaster dies = cluster.master("dies-unwatched");
            FakeMaster stays = cluster.master("stays-unwatched");
            dies.close();

            Coordinator coordinator = cluster.coordinator();
            assertThat(coordinator.awaitLeadership(TIMEOUT)).isTrue();
            var client = cluster.client(coordinator);
            await().atMost(DEADLINE).until(() -> status(client, dies.id) != ServerStatus.UP); // CRASHED, then REMOVED once its recovery is decided
            assertThat(status(client, stays.id)).isEqualTo(ServerStatus.UP);
        }
    }
}
