package io.ferrite.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.ferrite.coordinator.registry.ServerId;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.ListServersRequest;
import io.ferrite.proto.v1.ReadRequest;
import io.ferrite.proto.v1.ReadResponse;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.WriteRequest;
import io.ferrite.server.lease.Lease;
import io.ferrite.server.testing.InJvmCluster;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A server that cannot confirm its ZooKeeper lease stops serving data (DESIGN §5). */
class FencingTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private InJvmCluster cluster;
    private FerriteServer server;
    private long tableId;

    @BeforeEach
    void start() throws Exception {
        cluster = InJvmCluster.builder().servers(1).start();
        GetTabletMapResponse map = cluster.createTable("fenced", 1);
        tableId = map.getTableId();
        server = cluster.server(0);
        assertThat(cluster.dataStub(server.address()).write(WriteRequest.newBuilder().setTableId(tableId)
                .setKey(ByteString.copyFromUtf8("k")).setValue(ByteString.copyFromUtf8("v")).build()).getStatus())
                .isEqualTo(Status.OK);
    }

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private ReadResponse read() {
        return cluster.dataStub(server.address()).read(ReadRequest.newBuilder().setTableId(tableId)
                .setKey(ByteString.copyFromUtf8("k")).build());
    }

    @Test
    void disconnectedServerAnswersRetryUntilItsSessionIsConfirmedAgain() throws Exception {
        ServerId id = server.serverId().orElseThrow();
        cluster.zookeeper().stop();
        Awaitility.await().atMost(WAIT).until(() -> server.lease().state() == Lease.State.SUSPENDED);
        ReadResponse refused = read();
        assertThat(refused.getStatus()).isEqualTo(Status.RETRY);
        assertThat(refused.getMessage()).contains("lease");

        cluster.zookeeper().restart();
        Awaitility.await().atMost(WAIT).until(() -> server.lease().isValid());
        assertThat(server.serverId()).contains(id);
        assertThat(read().getValue().toStringUtf8()).isEqualTo("v");
    }

    @Test
    void expiredSessionDropsTheTabletsAndRegistersAsTheNextGeneration() throws Exception {
        ServerId id = server.serverId().orElseThrow();
        server.zooKeeperClient().getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
        Awaitility.await().atMost(WAIT).until(() -> server.serverId().map(ServerId::generation).orElse(-1)
                == id.generation() + 1);
        assertThat(server.lease().isValid()).isTrue();
        assertThat(server.serverId().orElseThrow().index()).isEqualTo(id.index());
        assertThat(server.tablets().size()).isZero();
        assertThat(server.engine().stats().liveObjects()).isZero();
        assertThat(read().getStatus()).isEqualTo(Status.UNKNOWN_TABLET);
        Awaitility.await().atMost(WAIT).until(() -> cluster.coordinatorStub()
                .listServers(ListServersRequest.getDefaultInstance()).getServersList().stream()
                .anyMatch(s -> s.getServerId() == id.asLong() && s.getStatus() == ServerStatus.CRASHED));
        ServerInfo next = cluster.coordinatorStub().listServers(ListServersRequest.getDefaultInstance())
                .getServersList().stream().filter(s -> s.getServerId() == server.serverId().orElseThrow().asLong())
                .findFirst().orElseThrow();
        assertThat(next.getStatus()).isEqualTo(ServerStatus.UP);
        assertThat(next.getAddress()).isEqualTo(server.address());
    }
}
