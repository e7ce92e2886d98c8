package io.ferrite.coordinator;

import com.google.protobuf.ByteString;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ferrite.coordinator.table.HashRange;
import io.ferrite.proto.v1.CoordinatorServiceGrpc.CoordinatorServiceBlockingStub;
import io.ferrite.proto.v1.CreateTableRequest;
import io.ferrite.proto.v1.CreateTableResponse;
import io.ferrite.proto.v1.DropTableRequest;
import io.ferrite.proto.v1.GetTabletMapRequest;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.ListServersRequest;
import io.ferrite.proto.v1.ListTablesRequest;
import io.ferrite.proto.v1.OwnedTablet;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.TableInfo;
import io.ferrite.proto.v1.TabletState;
import io.ferrite.proto.v1.Tablet;
import java.math.BigInteger;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TableAdminTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static TestingServer zk;
    private TestCluster cluster;
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
        cluster.master("backup-only", "backup");
        Coordinator coordinator = cluster.coordinator();
        assertThat(coordinator.awaitLeadership(TIMEOUT)).isTrue();
        client = cluster.client(coordinator);
    }

    @AfterEach
    void stopCluster() throws Exception {
        cluster.close();
    }

    private CreateTableResponse create(String name, int span) {
        return client.createTable(CreateTableRequest.newBuilder().setName(name).setServerSpan(span).build());
    }

    private GetTabletMapResponse map(String name) {
        return client.getTabletMap(GetTabletMapRequest.newBuilder().setName(name).build());
    }

    private static BigInteger unsigned(long value) {
        return new BigInteger(Long.toUnsignedString(value));
    }

    /** The tablets cover 0..2^64-1 in order, without gaps or overlaps. */
    private static void assertCoversHashSpace(List<Tablet> tablets) {
        assertThat(tablets.getFirst().getStartHash()).isZero();
        assertThat(tablets.getLast().getEndHash()).isEqualTo(-1L);
        for (int i = 1; i < tablets.size(); i++) {
            assertThat(unsigned(tablets.get(i - 1).getEndHash()).add(BigInteger.ONE))
                    .isEqualTo(unsigned(tablets.get(i).getStartHash()));
        }
    }

    @Test
    void aRetriedCreateWithItsTokenGetsItsOwnTableAnotherTokenGetsTableExists() {
        ByteString token = ByteString.copyFromUtf8("token-of-request-1");
        CreateTableRequest request = CreateTableRequest.newBuilder().setName("retried").setServerSpan(2)
                .setCreateToken(token).build();
        CreateTableResponse first = client.createTable(request);
        assertThat(first.getStatus()).as(first.getMessage()).isEqualTo(Status.OK);
        CreateTableResponse retry = client.createTable(request);
        assertThat(retry.getStatus()).as(retry.getMessage()).isEqualTo(Status.OK);
        assertThat(retry.getTableId()).isEqualTo(first.getTableId());

        CreateTableResponse other = client.createTable(request.toBuilder()
                .setCreateToken(ByteString.copyFromUtf8("token-of-request-2")).build());
        assertThat(other.getStatus()).isEqualTo(Status.TABLE_EXISTS);
        assertThat(create("retried", 2).getStatus()).as("no token: never a retry").isEqualTo(Status.TABLE_EXISTS);
        assertThat(map("retried").getTabletsList()).hasSize(2);

        CreateTableResponse tooLong = client.createTable(CreateTableRequest.newBuilder().setName("long-token")
                .setCreateToken(ByteString.copyFrom(new byte[65])).build());
        assertThat(tooLong.getStatus()).isEqualTo(Status.INVALID_ARGUMENT);
        assertThat(tooLong.getMessage()).contains("create_token");
    }

    @Test
    void createWithSpanOneOnOneMaster() {
        CreateTableResponse created = create("single", 1);
        assertThat(created.getStatus()).as(created.getMessage()).isEqualTo(Status.OK);
        assertThat(created.getTableId()).isPositive();

        GetTabletMapResponse map = map("single");
        assertThat(map.getStatus()).isEqualTo(Status.OK);
        assertThat(map.getTableId()).isEqualTo(created.getTableId());
        assertThat(map.getTabletsList()).hasSize(1);
        Tablet tablet = map.getTablets(0);
        assertThat(tablet.getStartHash()).isZero();
        assertThat(tablet.getEndHash()).isEqualTo(-1L);
        assertThat(tablet.getState()).isEqualTo(TabletState.NORMAL);
        FakeMaster owner = masters.stream().filter(m -> m.idLong() == tablet.getOwnerId()).findFirst().orElseThrow();
        assertThat(tablet.getOwnerAddress()).isEqualTo(owner.address);
        assertThat(owner.takes).hasSize(1);
        assertThat(owner.takes.getFirst().getTabletsList()).containsExactly(OwnedTablet.newBuilder()
                .setTableId(created.getTableId()).setStartHash(0).setEndHash(-1L).build());
        assertThat(tablet.getCreationSegmentId()).isEqualTo(100);
        assertThat(tablet.getCreationOffset()).isEqualTo(42);
        assertThat(masters.stream().mapToInt(m -> m.takes.size()).sum()).isEqualTo(1);
    }

    @Test
    void createWithSpanThreeSpreadsOverEveryMaster() {
        CreateTableResponse created = create("spread", 3);
        assertThat(created.getStatus()).as(created.getMessage()).isEqualTo(Status.OK);

        List<Tablet> tablets = map("spread").getTabletsList();
        assertThat(tablets).hasSize(3);
        assertCoversHashSpace(tablets);
        assertThat(tablets).extracting(Tablet::getOwnerId).doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(masters.stream().map(FakeMaster::idLong).toList());
        List<HashRange> expected = HashRange.split(3);
        for (int i = 0; i < 3; i++) {
            assertThat(tablets.get(i).getStartHash()).isEqualTo(expected.get(i).start());
            assertThat(tablets.get(i).getEndHash()).isEqualTo(expected.get(i).end());
        }
        Map<Long, FakeMaster> byId = masters.stream().collect(Collectors.toMap(FakeMaster::idLong, Function.identity()));
        for (Tablet tablet : tablets) {
            FakeMaster owner = byId.get(tablet.getOwnerId());
            assertThat(tablet.getOwnerAddress()).isEqualTo(owner.address);
            assertThat(owner.takes).hasSize(1);
            assertThat(owner.takes.getFirst().getTabletsList()).containsExactly(OwnedTablet.newBuilder()
                    .setTableId(created.getTableId()).setStartHash(tablet.getStartHash())
                    .setEndHash(tablet.getEndHash()).build());
        }
        // The same map by id.
        GetTabletMapResponse byIdMap = client.getTabletMap(
                GetTabletMapRequest.newBuilder().setTableId(created.getTableId()).build());
        assertThat(byIdMap.getName()).isEqualTo("spread");
        assertThat(byIdMap.getTabletsList()).isEqualTo(tablets);
    }

    @Test
    void spanIsCappedAtLiveMastersAndZeroMeansOne() {
        CreateTableResponse wide = create("wide", 10);
        assertThat(wide.getStatus()).isEqualTo(Status.OK);
        assertThat(map("wide").getTabletsList()).hasSize(3);
        assertCoversHashSpace(map("wide").getTabletsList());

        assertThat(create("zero", 0).getStatus()).isEqualTo(Status.OK);
        assertThat(map("zero").getTabletsList()).hasSize(1);
    }

    @Test
    void leastLoadedMastersGetNewTables() {
        Set<Long> owners = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            assertThat(create("t" + i, 1).getStatus()).isEqualTo(Status.OK);
            owners.add(map("t" + i).getTablets(0).getOwnerId());
        }
        assertThat(owners).hasSize(3);
    }

    @Test
    void listAndDrop() {
        long a = create("alpha", 2).getTableId();
        long b = create("beta", 1).getTableId();
        assertThat(b).isGreaterThan(a);
        assertThat(client.listTables(ListTablesRequest.getDefaultInstance()).getTablesList()).containsExactly(
                TableInfo.newBuilder().setName("alpha").setTableId(a).setTabletCount(2).build(),
                TableInfo.newBuilder().setName("beta").setTableId(b).setTabletCount(1).build());

        List<Long> alphaOwners = map("alpha").getTabletsList().stream().map(Tablet::getOwnerId).toList();
        assertThat(client.dropTable(DropTableRequest.newBuilder().setName("alpha").build()).getStatus())
                .isEqualTo(Status.OK);

        assertThat(map("alpha").getStatus()).isEqualTo(Status.TABLE_DOESNT_EXIST);
        assertThat(client.listTables(ListTablesRequest.getDefaultInstance()).getTablesList())
                .extracting(TableInfo::getName).containsExactly("beta");
        for (FakeMaster master : masters) {
            boolean owned = alphaOwners.contains(master.idLong());
            assertThat(master.drops).as("DropTableData on %s", master.id)
                    .hasSize(owned ? 1 : 0)
                    .allMatch(drop -> drop.getTableId() == a);
        }
        assertThat(client.dropTable(DropTableRequest.newBuilder().setName("alpha").build()).getStatus())
                .isEqualTo(Status.TABLE_DOESNT_EXIST);
        // A dropped name can be used again, with a new id (ids are never reused).
        CreateTableResponse again = create("alpha", 1);
        assertThat(again.getStatus()).isEqualTo(Status.OK);
        assertThat(again.getTableId()).isGreaterThan(b);
    }

    @Test
    void badNamesAreInvalidArguments() {
        for (String bad : List.of("", "a/b", "/", "x".repeat(257))) {
            CreateTableResponse response = create(bad, 1);
            assertThat(response.getStatus()).as("name '%s'", bad).isEqualTo(Status.INVALID_ARGUMENT);
            assertThat(response.getMessage()).isNotEmpty();
        }
        assertThat(create("x".repeat(256), 1).getStatus()).isEqualTo(Status.OK);
        assertThat(create("with space.and:odd%chars ü", 1).getStatus()).isEqualTo(Status.OK);
        assertThat(map("with space.and:odd%chars ü").getStatus()).isEqualTo(Status.OK);
        assertThat(masters.stream().mapToInt(m -> m.takes.size()).sum()).isEqualTo(2);
    }

    @Test
    void duplicateNamesAreTableExists() {
        long id = create("dup", 2).getTableId();
        CreateTableResponse again = create("dup", 3);
        assertThat(again.getStatus()).isEqualTo(Status.TABLE_EXISTS);
        assertThat(again.getTableId()).isEqualTo(id);
        assertThat(map("dup").getTabletsList()).hasSize(2);
    }

    @Test
    void aMasterThatFailsTakeTabletsLeavesTheTableToBeFinishedOnRetry() {
        for (FakeMaster master : masters) {
            master.failTakes.set(1);
        }
        CreateTableResponse first = create("flaky", 3);
        assertThat(first.getStatus()).isEqualTo(Status.RETRY);
        assertThat(first.getTableId()).isPositive();
        assertThat(first.getMessage()).contains("not yet served");

        // A retried create finishes the job (or the leader's periodic retry already has).
        CreateTableResponse retried = create("flaky", 3);
        assertThat(retried.getStatus()).isIn(Status.OK, Status.TABLE_EXISTS);
        assertThat(retried.getTableId()).isEqualTo(first.getTableId());
        for (FakeMaster master : masters) {
            assertThat(master.takes).hasSize(1);
        }
        assertThat(map("flaky").getTabletsList()).allMatch(t -> t.getCreationSegmentId() == 100);
    }

    @Test
    void noLiveMasterIsRetry() throws Exception {
        for (FakeMaster master : masters) {
            master.close();
        }
        await().atMost(TIMEOUT).until(() -> client.listServers(ListServersRequest.getDefaultInstance())
                .getServersList().stream().filter(s -> s.getServicesList().contains("master"))
                .allMatch(s -> s.getStatus() != ServerStatus.UP)); // CRASHED, or REMOVED once recovery decided
        CreateTableResponse response = create("nowhere", 1);
        assertThat(response.getStatus()).isEqualTo(Status.RETRY);
        assertThat(response.getMessage()).contains("no live master");
        assertThat(map("nowhere").getStatus()).isEqualTo(Status.TABLE_DOESNT_EXIST);
    }
}
