package io.ferrite.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.ferrite.coordinator.Coordinator;
import io.ferrite.coordinator.rpc.MasterClients;
import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.DropTableDataRequest;
import io.ferrite.proto.v1.DropTableDataResponse;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.OwnedTablet;
import io.ferrite.proto.v1.ReadRequest;
import io.ferrite.proto.v1.ReadResponse;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.TakeTabletsRequest;
import io.ferrite.proto.v1.TakeTabletsResponse;
import io.ferrite.proto.v1.WriteRequest;
import io.ferrite.server.testing.InJvmCluster;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The coordinator epoch fences control calls: TakeTablets and DropTableData from a deposed
 * leader (a lower epoch than the master has seen, or none) are refused with STALE_COORDINATOR
 * and change nothing. A master learns a new leader's epoch from its heartbeat acknowledgements,
 * so the old leader is fenced even before the new one sends any control call.
 */
class StaleCoordinatorEpochTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private InJvmCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private ReadResponse read(FerriteServer server, long tableId, String key) {
        return cluster.dataStub(server.address()).read(ReadRequest.newBuilder().setTableId(tableId)
                .setKey(ByteString.copyFromUtf8(key)).build());
    }

    @Test
    void aDeposedLeaderCanNeitherMoveNorDropData() throws Exception {
        cluster = InJvmCluster.builder().servers(1).start();
        GetTabletMapResponse map = cluster.createTable("fenced", 1);
        long tableId = map.getTableId();
        FerriteServer server = cluster.server(0);
        assertThat(cluster.dataStub(server.address()).write(WriteRequest.newBuilder().setTableId(tableId)
                .setKey(ByteString.copyFromUtf8("k")).setValue(ByteString.copyFromUtf8("v")).build()).getStatus())
                .isEqualTo(Status.OK);
        Coordinator first = cluster.coordinator();
        long oldEpoch = first.epoch();
        assertThat(oldEpoch).isPositive();
        assertThat(server.epochFence().highest()).isEqualTo(oldEpoch);
        ControlServiceGrpc.ControlServiceBlockingStub control = cluster.controlStub(server.address());
        long self = server.serverId().orElseThrow().asLong();
        OwnedTablet other = OwnedTablet.newBuilder().setTableId(999).setStartHash(0).setEndHash(-1L).build();

        // No epoch at all (a tool, an old coordinator): refused.
        TakeTabletsResponse none = control.takeTablets(TakeTabletsRequest.newBuilder().setServerId(self)
                .addTablets(other).build());
        assertThat(none.getStatus()).isEqualTo(Status.STALE_COORDINATOR);
        assertThat(none.getMessage()).startsWith("stale coordinator epoch 0 < " + oldEpoch);

        // A new leader takes over: the master learns its epoch from the heartbeat acknowledgements.
        Coordinator standby = cluster.startCoordinator();
        first.close();
        assertThat(standby.awaitLeadership(WAIT)).isTrue();
        long newEpoch = standby.epoch();
        assertThat(newEpoch).isGreaterThan(oldEpoch);
        Awaitility.await("the master saw epoch " + newEpoch).atMost(WAIT)
                .until(() -> server.epochFence().highest() == newEpoch && server.lease().isValid());

        // The deposed leader's calls, through its own client code, are refused and change nothing.
        try (MasterClients deposed = new MasterClients(Duration.ofSeconds(10), () -> oldEpoch)) {
            TakeTabletsResponse take = deposed.takeTablets(server.address(), TakeTabletsRequest.newBuilder()
                    .setServerId(self).addTablets(other).build()).get(20, TimeUnit.SECONDS);
            assertThat(take.getStatus()).isEqualTo(Status.STALE_COORDINATOR);
            assertThat(take.getMessage()).isEqualTo("stale coordinator epoch " + oldEpoch + " < " + newEpoch
                    + ": the request comes from a deposed coordinator leader");
            assertThat(server.tablets().ownsAny(999)).as("nothing taken").isFalse();

            DropTableDataResponse drop = deposed.dropTableData(server.address(),
                    DropTableDataRequest.newBuilder().setTableId(tableId).build()).get(20, TimeUnit.SECONDS);
            assertThat(drop.getStatus()).isEqualTo(Status.STALE_COORDINATOR);
            assertThat(drop.getObjectsDropped()).isZero();
            assertThat(server.tablets().ownsAny(tableId)).as("nothing dropped").isTrue();
            assertThat(read(server, tableId, "k").getValue().toStringUtf8()).isEqualTo("v");
        }

        // The current leader's epoch is admitted.
        try (MasterClients current = new MasterClients(Duration.ofSeconds(10), () -> newEpoch)) {
            TakeTabletsResponse take = current.takeTablets(server.address(), TakeTabletsRequest.newBuilder()
                    .setServerId(self).addTablets(other).build()).get(20, TimeUnit.SECONDS);
            assertThat(take.getStatus()).isEqualTo(Status.OK);
            assertThat(server.tablets().ownsAny(999)).isTrue();
        }
    }
}
