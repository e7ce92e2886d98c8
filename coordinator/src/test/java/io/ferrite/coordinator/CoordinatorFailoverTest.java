package io.ferrite.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ferrite.coordinator.rpc.Forwarding;
import io.ferrite.proto.v1.ClusterStatusRequest;
import io.ferrite.proto.v1.ClusterStatusResponse;
import io.ferrite.proto.v1.CoordinatorServiceGrpc.CoordinatorServiceBlockingStub;
import io.ferrite.proto.v1.CreateTableRequest;
import io.ferrite.proto.v1.CreateTableResponse;
import io.ferrite.proto.v1.DropTableRequest;
import io.ferrite.proto.v1.GetTabletMapRequest;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.ListTablesRequest;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.TableInfo;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.List;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CoordinatorFailoverTest {
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

    private static CreateTableResponse create(CoordinatorServiceBlockingStub client, String name, int span) {
        return client.createTable(CreateTableRequest.newBuilder().setName(name).setServerSpan(span).build());
    }

    private static List<String> tableNames(CoordinatorServiceBlockingStub client) {
        return client.listTables(ListTablesRequest.getDefaultInstance()).getTablesList().stream()
                .map(TableInfo::getName).toList();
    }

    @Test
    void followersForwardMutationsAndTheStandbyTakesOverWithEverything() throws Exception {
        try (TestCluster cluster = new TestCluster(zk)) {
            List<FakeMaster> masters = List.of(cluster.master("m1"), cluster.master("m2"), cluster.master("m3"));
            Coordinator leader = cluster.coordinator();
            assertThat(leader.awaitLeadership(TIMEOUT)).isTrue();
            Coordinator follower = cluster.coordinator();
            CoordinatorServiceBlockingStub toLeader = cluster.client(leader);
            CoordinatorServiceBlockingStub toFollower = cluster.client(follower);
            assertThat(follower.isLeader()).isFalse();
            assertThat(follower.leaderAddress()).contains(leader.address());

            ClusterStatusResponse status = toFollower.clusterStatus(ClusterStatusRequest.getDefaultInstance());
            assertThat(status.getCluster()).isEqualTo(cluster.name);
            assertThat(status.getLeader()).isEqualTo(leader.address());
            assertThat(status.getCoordinatorsList()).containsExactlyInAnyOrder(leader.address(), follower.address());
            assertThat(status.getServersUp()).isEqualTo(3);

            // Mutations through the follower are forwarded to the leader; the follower's own
            // reads see them as soon as the call returns.
            CreateTableResponse viaFollower = create(toFollower, "via-follower", 3);
            assertThat(viaFollower.getStatus()).as(viaFollower.getMessage()).isEqualTo(Status.OK);
            assertThat(toFollower.getTabletMap(GetTabletMapRequest.newBuilder().setName("via-follower").build())
                    .getTabletsList()).hasSize(3);
            assertThat(create(toLeader, "via-leader", 1).getStatus()).isEqualTo(Status.OK);
            assertThat(create(toFollower, "via-leader", 1).getStatus()).isEqualTo(Status.TABLE_EXISTS);
            assertThat(create(toFollower, "doomed", 2).getStatus()).isEqualTo(Status.OK);
            assertThat(toFollower.dropTable(DropTableRequest.newBuilder().setName("doomed").build()).getStatus())
                    .isEqualTo(Status.OK);
            assertThat(tableNames(toFollower)).containsExactly("via-follower", "via-leader");
            assertThat(masters.stream().mapToInt(m -> m.takes.size()).sum()).isEqualTo(3 + 1 + 2);
            assertThat(masters.stream().mapToInt(m -> m.drops.size()).sum()).isEqualTo(2);
            GetTabletMapResponse before = toFollower.getTabletMap(
                    GetTabletMapRequest.newBuilder().setName("via-follower").build());

            leader.close();

            assertThat(follower.awaitLeadership(TIMEOUT)).isTrue();
            await().atMost(TIMEOUT).until(() -> toFollower.clusterStatus(ClusterStatusRequest.getDefaultInstance())
                    .getCoordinatorsList().equals(List.of(follower.address())));
            assertThat(toFollower.clusterStatus(ClusterStatusRequest.getDefaultInstance()).getLeader())
                    .isEqualTo(follower.address());
            // Nothing was lost, and table admin keeps working on the new leader.
            assertThat(tableNames(toFollower)).containsExactly("via-follower", "via-leader");
            assertThat(toFollower.getTabletMap(GetTabletMapRequest.newBuilder().setName("via-follower").build()))
                    .isEqualTo(before);
            CreateTableResponse after = create(toFollower, "after-failover", 2);
            assertThat(after.getStatus()).as(after.getMessage()).isEqualTo(Status.OK);
            assertThat(after.getTableId()).isGreaterThan(viaFollower.getTableId());
            assertThat(toFollower.dropTable(DropTableRequest.newBuilder().setName("via-leader").build()).getStatus())
                    .isEqualTo(Status.OK);
            assertThat(tableNames(toFollower)).containsExactly("via-follower", "after-failover");
        }
    }

    @Test
    void aFollowerNeverForwardsTwiceAndNamesTheLeaderInstead() throws Exception {
        try (TestCluster cluster = new TestCluster(zk)) {
            cluster.master("m1");
            Coordinator leader = cluster.coordinator();
            assertThat(leader.awaitLeadership(TIMEOUT)).isTrue();
            Coordinator follower = cluster.coordinator();
            Metadata forwarded = new Metadata();
            forwarded.put(Forwarding.HEADER, "127.0.0.1:1");
            CoordinatorServiceBlockingStub asIfForwarded = cluster.client(follower)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(forwarded));

            CreateTableResponse response = create(asIfForwarded, "t", 1);
            assertThat(response.getStatus()).isEqualTo(Status.NOT_LEADER);
            assertThat(response.getLeader()).isEqualTo(leader.address());
            assertThat(asIfForwarded.dropTable(DropTableRequest.newBuilder().setName("t").build()).getLeader())
                    .isEqualTo(leader.address());
            assertThat(tableNames(cluster.client(leader))).isEmpty();
        }
    }
}
