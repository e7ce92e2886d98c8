package io.ferrite.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ferrite.coordinator.zk.ClusterStoreException;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

class CoordinatorStartupTest {
    @Test
    void anUnreachableZooKeeperIsNamed() throws IOException {
        int freePort;
        try (ServerSocket socket = new ServerSocket(0)) {
            freePort = socket.getLocalPort();
        }
        CoordinatorContext context = new CoordinatorContext().zkConnect("127.0.0.1:" + freePort).listenPort(0)
                .connectionTimeoutMs(300).conclude();
        assertThatThrownBy(() -> Coordinator.start(context)).isInstanceOf(ClusterStoreException.class)
                .hasMessageStartingWith("zookeeper:").hasMessageContaining("not reachable");
    }

    @Test
    void aTakenPortIsNamedAndNothingIsLeftBehind() throws Exception {
        try (TestingServer zk = new TestingServer(true); ServerSocket taken = new ServerSocket(0)) {
            CoordinatorContext context = new CoordinatorContext().zkConnect(zk.getConnectString())
                    .cluster("startup").listenPort(taken.getLocalPort()).conclude();
            assertThatThrownBy(() -> Coordinator.start(context)).isInstanceOf(IOException.class)
                    .hasMessageStartingWith("listen-port:");
            // It left the election and ZooKeeper cleanly: a second coordinator becomes leader.
            try (Coordinator coordinator = Coordinator.start(context.listenPort(0))) {
                assertThat(coordinator.awaitLeadership(Duration.ofSeconds(10))).isTrue();
                assertThat(coordinator.port()).isPositive();
                assertThat(coordinator.address()).isEqualTo("127.0.0.1:" + coordinator.port());
            }
        }
    }
}
