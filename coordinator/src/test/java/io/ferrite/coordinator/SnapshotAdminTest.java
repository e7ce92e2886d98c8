package io.ferrite.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.proto.v1.CoordinatorServiceGrpc.CoordinatorServiceBlockingStub;
import io.ferrite.proto.v1.CreateSnapshotRequest;
import io.ferrite.proto.v1.CreateSnapshotResponse;
import io.ferrite.proto.v1.CreateTableRequest;
import io.ferrite.proto.v1.DropTableSnapshotRequest;
import io.ferrite.proto.v1.ListSnapshotsRequest;
import io.ferrite.proto.v1.SnapshotInfo;
import io.ferrite.proto.v1.SnapshotState;
import io.ferrite.proto.v1.SnapshotTablet;
import io.ferrite.proto.v1.Status;
import java.time.Duration;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The leader's snapshot administration against fake masters on a real ZooKeeper: a snapshot is
 * a cut on every owner, recorded COMPLETE with each range's holder and cut; one owner refusing
 * leaves no record and no part on the others; ids never repeat after a drop; and a TAKING record
 * a dead leader left is cleared (its parts dropped) by the next leader.
 */
class SnapshotAdminTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static TestingServer zk;
    private TestCluster cluster;
    private Coordinator coordinator;
    private CoordinatorServiceBlockingStub client;
    private List<FakeMaster> masters;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        zk = new TestingServer(true);
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        zk.close();
    }

    @BeforeEach
    void startCluster() throws Exception {
        cluster = new TestCluster(zk);
        masters = List.of(cluster.master("m1"), cluster.master("m2"), cluster.master("m3"));
        coordinator = cluster.coordinator();
        assertThat(coordinator.awaitLeadership(TIMEOUT)).isTrue();
        client = cluster.client(coordinator);
        assertThat(client.createTable(CreateTableRequest.newBuilder().setName("t").setServerSpan(3).build())
                .getStatus()).isEqualTo(Status.OK);
    }

    @AfterEach
    void stopCluster() {
        cluster.close();
    }

    private CreateSnapshotResponse snapshot() {
        return client.createSnapshot(CreateSnapshotRequest.newBuilder().setTableName("t").build());
    }

    private List<SnapshotInfo> list() {
        return client.listSnapshots(ListSnapshotsRequest.newBuilder().setTableName("t").build()).getSnapshotsList();
    }

    @Test
    void aSnapshotIsACutOnEveryOwnerRecordedWithItsHoldersAndIdsNeverRepeat() {
        CreateSnapshotResponse first = snapshot();
        assertThat(first.getStatus()).as(first.getMessage()).isEqualTo(Status.OK);
        SnapshotInfo info = first.getSnapshot();
        assertThat(info.getState()).isEqualTo(SnapshotState.COMPLETE);
        assertThat(info.getSnapshotId()).isEqualTo(1);
        assertThat(info.getObjects()).isEqualTo(30);
        assertThat(info.getTabletsList()).hasSize(3).allSatisfy(t -> {
            assertThat(t.getCut()).isEqualTo(1_001);
            assertThat(t.getServerAddress()).isNotEmpty();
        });
        for (FakeMaster master : masters) {
            assertThat(master.snapshotsTaken).hasSize(1);
            assertThat(master.snapshotsTaken.getFirst().getServerId()).isEqualTo(master.idLong());
            assertThat(master.snapshotsTaken.getFirst().getCoordinatorEpoch()).isPositive();
        }
        assertThat(list()).extracting(SnapshotInfo::getSnapshotId).containsExactly(1L);

        var dropped = client.dropSnapshot(DropTableSnapshotRequest.newBuilder().setTableId(info.getTableId())
                .setSnapshotId(1).build());
        assertThat(dropped.getStatus()).isEqualTo(Status.OK);
        assertThat(masters).allSatisfy(m -> assertThat(m.snapshotsDropped).hasSize(1));
        assertThat(list()).isEmpty();
        assertThat(snapshot().getSnapshot().getSnapshotId()).as("an id is never handed out twice").isEqualTo(2);
        assertThat(client.dropSnapshot(DropTableSnapshotRequest.newBuilder().setTableId(info.getTableId())
                .setSnapshotId(1).build()).getStatus()).isEqualTo(Status.SNAPSHOT_DOESNT_EXIST);
    }

    @Test
    void anOwnerThatRefusesLeavesNoRecordAndNoPartElsewhere() {
        masters.get(1).failSnapshots.set(1);
        CreateSnapshotResponse refused = snapshot();
        assertThat(refused.getStatus()).isEqualTo(Status.RETRY);
        assertThat(refused.getMessage()).contains("not taken");
        assertThat(list()).isEmpty();
        for (FakeMaster master : masters) {
            // Every part that was taken was dropped again.
            assertThat(master.snapshotsDropped).hasSameSizeAs(master.snapshotsTaken);
        }
        assertThat(snapshot().getStatus()).isEqualTo(Status.OK);
    }

    /**
     * Autosave every second: the leader's rounds take automatic snapshots and the retention keeps
     * only the newest of the hour (all are in this hour), dropping the others on the masters;
     * a snapshot taken on request is never dropped by it; off stops it.
     */
    @Test
    void autosaveTakesSnapshotsAndItsRetentionKeepsTheNewestOfTheHour() throws Exception {
        long manual = snapshot().getSnapshot().getSnapshotId();
        var bad = client.setAutosave(io.ferrite.proto.v1.SetAutosaveRequest.newBuilder().setTableName("t")
                .setIntervalMs(500).build());
        assertThat(bad.getStatus()).isEqualTo(Status.INVALID_ARGUMENT);
        assertThat(client.setAutosave(io.ferrite.proto.v1.SetAutosaveRequest.newBuilder().setTableName("nope")
                .setIntervalMs(1_000).build()).getStatus()).isEqualTo(Status.TABLE_DOESNT_EXIST);
        assertThat(client.setAutosave(io.ferrite.proto.v1.SetAutosaveRequest.newBuilder().setTableName("t")
                .setIntervalMs(1_000).build()).getStatus()).isEqualTo(Status.OK);
        Awaitility.await("three automatic snapshots taken").atMost(Duration.ofSeconds(30))
                .until(() -> masters.getFirst().snapshotsTaken.size() >= 4);
        Awaitility.await("older automatic snapshots dropped").atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> {
                    List<SnapshotInfo> all = list();
                    assertThat(all).filteredOn(SnapshotInfo::getAutomatic).hasSize(1);
                    assertThat(all).extracting(SnapshotInfo::getSnapshotId).contains(manual);
                    assertThat(masters.getFirst().snapshotsDropped).isNotEmpty();
                });
        assertThat(client.setAutosave(io.ferrite.proto.v1.SetAutosaveRequest.newBuilder().setTableName("t")
                .setIntervalMs(0).build()).getStatus()).isEqualTo(Status.OK);
        try (CuratorFramework curator = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(100))) {
            curator.start();
            long tableId = list().getFirst().getTableId();
            assertThat(curator.checkExists().forPath(new ClusterPaths(cluster.name).autosave(tableId))).isNull();
        }
    }

    @Test
    void theNextLeaderClearsASnapshotADeadLeaderLeftUnfinished() throws Exception {
        long tableId = snapshot().getSnapshot().getTableId();
        ClusterPaths paths = new ClusterPaths(cluster.name);
        SnapshotInfo leftover = SnapshotInfo.newBuilder().setTableId(tableId).setTableName("t").setSnapshotId(99)
                .setState(SnapshotState.TAKING)
                .addTablets(SnapshotTablet.newBuilder().setStartHash(0).setEndHash(-1L).setServerId(masters.get(2)
                        .idLong()))
                .build();
        try (CuratorFramework curator = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(100))) {
            curator.start();
            curator.create().forPath(paths.snapshot(tableId, 99), leftover.toByteArray());
            coordinator.close();
            Coordinator next = cluster.coordinator();
            assertThat(next.awaitLeadership(TIMEOUT)).isTrue();
            Awaitility.await("the leftover is cleared").atMost(TIMEOUT)
                    .until(() -> curator.checkExists().forPath(paths.snapshot(tableId, 99)) == null);
            assertThat(masters.get(2).snapshotsDropped).anySatisfy(d -> assertThat(d.getSnapshotId()).isEqualTo(99));
            assertThat(curator.checkExists().forPath(paths.snapshot(tableId, 1))).as("the complete one stays")
                    .isNotNull();
        }
    }
}
