package io.ferrite.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ferrite.proto.v1.ClusterStatusRequest;
import io.ferrite.proto.v1.CoordinatorServiceGrpc.CoordinatorServiceBlockingStub;
import io.ferrite.proto.v1.CreateTableRequest;
import io.ferrite.proto.v1.DropTableDataRequest;
import io.ferrite.proto.v1.DropTableRequest;
import io.ferrite.proto.v1.HeartbeatRequest;
import io.ferrite.proto.v1.HeartbeatResponse;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.TakeTabletsRequest;
import java.time.Duration;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every leader term gets a strictly larger epoch from ZooKeeper, and every call that moves or
 * drops data carries the epoch of the leader that sent it; followers answer heartbeats
 * NOT_LEADER naming the leader, and the leader acknowledges with its epoch and the lease.
 */
class LeaderEpochTest {
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

    @Test
    void eachLeaderTermHasAHigherEpochAndItsCallsCarryIt() throws Exception {
        try (TestCluster cluster = new TestCluster(zk)) {
            FakeMaster master = cluster.master("m1");
            Coordinator first = cluster.coordinator();
            assertThat(first.awaitLeadership(TIMEOUT)).isTrue();
            Coordinator second = cluster.coordinator();
            long firstEpoch = first.epoch();
            assertThat(firstEpoch).isPositive();
            assertThat(second.epoch()).as("a follower has no epoch").isZero();
            CoordinatorServiceBlockingStub toFirst = cluster.client(first);
            CoordinatorServiceBlockingStub toSecond = cluster.client(second);
            assertThat(toSecond.clusterStatus(ClusterStatusRequest.getDefaultInstance()).getCoordinatorEpoch())
                    .isEqualTo(firstEpoch);

            assertThat(toFirst.createTable(CreateTableRequest.newBuilder().setName("a").setServerSpan(1).build())
                    .getStatus()).isEqualTo(Status.OK);
            assertThat(master.takes).extracting(TakeTabletsRequest::getCoordinatorEpoch).containsExactly(firstEpoch);

            // Heartbeats: the follower names the leader, the leader grants a lease with its epoch.
            HeartbeatRequest beat = HeartbeatRequest.newBuilder().setServerId(master.idLong()).setSequence(7).build();
            HeartbeatResponse fromFollower = toSecond.heartbeat(beat);
            assertThat(fromFollower.getStatus()).isEqualTo(Status.NOT_LEADER);
            assertThat(fromFollower.getLeader()).isEqualTo(first.address());
            await().atMost(TIMEOUT).until(() -> toFirst.heartbeat(beat).getStatus() == Status.OK);
            HeartbeatResponse fromLeader = toFirst.heartbeat(beat);
            assertThat(fromLeader.getCoordinatorEpoch()).isEqualTo(firstEpoch);
            assertThat(fromLeader.getLeaseMs()).isEqualTo(CoordinatorContext.DEFAULT_LEASE_MS);
            assertThat(fromLeader.getSequence()).isEqualTo(7);

            first.close();
            assertThat(second.awaitLeadership(TIMEOUT)).isTrue();
            long secondEpoch = second.epoch();
            assertThat(secondEpoch).isGreaterThan(firstEpoch);
            assertThat(toSecond.dropTable(DropTableRequest.newBuilder().setName("a").build()).getStatus())
                    .isEqualTo(Status.OK);
            await().atMost(TIMEOUT).until(() -> !master.drops.isEmpty());
            assertThat(master.drops).extracting(DropTableDataRequest::getCoordinatorEpoch).containsOnly(secondEpoch);
            assertThat(toSecond.clusterStatus(ClusterStatusRequest.getDefaultInstance()).getCoordinatorEpoch())
                    .isEqualTo(secondEpoch);
        }
    }

    @Test
    void aHeartbeatFromAServerTheClusterDoesNotListAsUpIsToldItIsDeposed() throws Exception {
        try (TestCluster cluster = new TestCluster(zk)) {
            FakeMaster gone = cluster.master("gone");
            Coordinator leader = cluster.coordinator();
            assertThat(leader.awaitLeadership(TIMEOUT)).isTrue();
            CoordinatorServiceBlockingStub client = cluster.client(leader);
            long id = gone.idLong();
            gone.close(); // no heartbeats, no probes answered: declared CRASHED
            await().atMost(TIMEOUT).until(() -> client.listServers(
                    io.ferrite.proto.v1.ListServersRequest.getDefaultInstance()).getServersList().stream()
                    .anyMatch(s -> s.getServerId() == id && s.getStatus() != io.ferrite.proto.v1.ServerStatus.UP));
            // CRASHED, then REMOVED as soon as its recovery is decided (it owned nothing).
            HeartbeatResponse late = client.heartbeat(HeartbeatRequest.newBuilder().setServerId(id).build());
            assertThat(late.getStatus()).isEqualTo(Status.WRONG_SERVER);
            assertThat(late.getMessage()).containsAnyOf("CRASHED", "REMOVED");
        }
    }
}
