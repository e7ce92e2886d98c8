package io.ferrite.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.proto.v1.SegmentReplicas;
import io.ferrite.proto.v1.ServerStatsResponse;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link GrpcMasterDirectory}: what a master's ServerStats answer means for reconciliation. */
class GrpcMasterDirectoryTest {
    private static final long MASTER = 3L << 32 | 2;

    @Test
    void aMasterThatIsNotUpIsNotAskedAndItsReplicasAreKept() throws Exception {
        GrpcMasterDirectory directory = new GrpcMasterDirectory(id -> Optional.empty(), address -> {
            throw new AssertionError("asked " + address);
        }, Runnable::run);
        assertThat(directory.ask(MASTER).get(5, TimeUnit.SECONDS)).isEmpty();
    }

    @Test
    void anAnswerGivesTheBackupsOfEverySegment() {
        ServerStatsResponse stats = ServerStatsResponse.newBuilder().setServerId(MASTER).setPlacementKnown(true)
                .setLogFullyReplicated(true).setHighestSegmentId(12)
                .addSegmentReplicas(SegmentReplicas.newBuilder().setSegmentId(11).addBackupIds(5).addBackupIds(6))
                .addSegmentReplicas(SegmentReplicas.newBuilder().setSegmentId(12).addBackupIds(6))
                .build();
        ReplicaStore.MasterReplicas answer = GrpcMasterDirectory.replicasOf(MASTER, stats).orElseThrow();
        assertThat(answer.masterId()).isEqualTo(MASTER);
        assertThat(answer.fullyReplicated()).isTrue();
        assertThat(answer.highestSegmentId()).isEqualTo(12);
        assertThat(answer.backupsBySegment()).isEqualTo(Map.of(11L, Set.of(5L, 6L), 12L, Set.of(6L)));
    }

    @Test
    void anotherServerOrAnUnknownPlacementChangesNothing() {
        ServerStatsResponse known = ServerStatsResponse.newBuilder().setServerId(MASTER).setPlacementKnown(true).build();
        assertThat(GrpcMasterDirectory.replicasOf(MASTER + 1, known)).as("another generation answered").isEmpty();
        assertThat(GrpcMasterDirectory.replicasOf(MASTER, known.toBuilder().setPlacementKnown(false).build()))
                .as("the sender did not answer in time").isEmpty();
    }
}
