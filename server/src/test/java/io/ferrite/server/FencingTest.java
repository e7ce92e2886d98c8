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
    void expiredSessionKeepsTheIdAndTheDataAndServesAgainAfterRejoining() throws Exception {
        ServerId id = server.serverId().orElseThrow();
        var zk = server.zooKeeperClient();
        long oldSession = zk.getZookeeperClient().getZooKeeper().getSessionId();
        String live = new io.ferrite.coordinator.zk.ClusterPaths(cluster.name()).live(id.asLong());
        zk.getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
        // Rejoined: its liveness node belongs to a new session, and the lease is valid again.
        Awaitility.await().atMost(WAIT).until(() -> {
            var stat = zk.checkExists().forPath(live);
            return stat != null && stat.getEphemeralOwner() != oldSession
                    && stat.getEphemeralOwner() == zk.getZookeeperClient().getZooKeeper().getSessionId()
                    && server.lease().isValid();
        });
        assertThat(server.serverId()).contains(id);
        assertThat(server.lease().isDeposed()).isFalse();
        assertThat(read().getValue().toStringUtf8()).isEqualTo("v");
        Awaitility.await().atMost(WAIT).until(() -> cluster.coordinatorStub()
                .listServers(ListServersRequest.getDefaultInstance()).getServersList().stream()
                .anyMatch(s -> s.getServerId() == id.asLong() && s.getStatus() == ServerStatus.UP));
        ServerInfo record = cluster.coordinatorStub().listServers(ListServersRequest.getDefaultInstance())
                .getServersList().stream().filter(s -> s.getServerId() == id.asLong()).findFirst().orElseThrow();
        assertThat(record.getAddress()).isEqualTo(server.address());
    }
}
