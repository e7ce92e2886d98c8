package io.ferrite.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FaultScheduleTest {
    private static ChaosSettings settings(long seed, boolean smoke, List<FaultKind> kinds) {
        return new ChaosSettings(seed, Duration.ofMinutes(5), smoke, kinds, "ferrite:local", 5, 2, "128m", "2m",
                48L << 20, 500, 4, 40, 12, 3, Path.of("target"));
    }

    private static List<String> drain(FaultSchedule schedule, int most) {
        List<String> out = new ArrayList<>();
        FaultSchedule.Planned p;
        while (out.size() < most && (p = schedule.next()) != null) {
            out.add(p.kind().id() + "/" + p.hold().toMillis() + "/" + p.targets().nextLong());
        }
        return out;
    }

    @Test
    void theSameSeedGivesTheSameFaultsHoldsAndTargetChoices() {
        List<FaultKind> all = List.of(FaultKind.values());
        assertThat(drain(new FaultSchedule(settings(42, false, all)), 30))
                .isEqualTo(drain(new FaultSchedule(settings(42, false, all)), 30))
                .isNotEqualTo(drain(new FaultSchedule(settings(43, false, all)), 30));
    }

    @Test
    void theSmokeInjectsEveryKindOnceWithHoldsInItsBounds() {
        ChaosSettings smoke = settings(7, true, List.of(FaultKind.values()));
        FaultSchedule schedule = new FaultSchedule(smoke);
        List<FaultKind> kinds = new ArrayList<>();
        FaultSchedule.Planned p;
        while ((p = schedule.next()) != null) {
            kinds.add(p.kind());
            if (p.kind() == FaultKind.PARTITION_MASTER_ZK) {
                assertThat(p.hold()).as("longer than the servers' 10 s session").isGreaterThan(Duration.ofSeconds(10));
            } else {
                assertThat(p.hold()).isBetween(smoke.holdMin(), smoke.holdMax());
            }
        }
        assertThat(kinds).containsExactlyInAnyOrder(FaultKind.values());
    }

    @Test
    void faultListsParseByNameAndUnknownNamesAreRefusedWithTheKnownOnes() {
        assertThat(FaultKind.parse("kill-master, pause-master,kill-master"))
                .containsExactly(FaultKind.KILL_MASTER, FaultKind.PAUSE_MASTER);
        assertThat(FaultKind.parse("all")).containsExactly(FaultKind.values());
        assertThatThrownBy(() -> FaultKind.parse("kill-everything")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kill-everything").hasMessageContaining("backup-disk-full");
    }

    @Test
    void everyContainerHasItsOwnAddressAndUid() {
        Topology t = Topology.of(3, 2, 5);
        assertThat(t.all()).hasSize(10);
        assertThat(t.all().stream().map(Node::host).distinct()).hasSize(10);
        assertThat(t.all().stream().map(Node::uid).distinct()).hasSize(10).doesNotContain(Topology.CLIENT_UID);
        assertThat(t.zookeeperConnect()).isEqualTo("127.0.0.2:2181,127.0.0.3:2181,127.0.0.4:2181");
        assertThat(t.serverAt("127.0.0.13:7200")).map(Node::name).contains("server3");
    }

    @Test
    void durationsReadAsUsersWriteThem() {
        assertThat(ChaosMain.parseDuration("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(ChaosMain.parseDuration("90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(ChaosMain.parseDuration("45")).isEqualTo(Duration.ofSeconds(45));
        assertThatThrownBy(() -> ChaosMain.parseDuration("5 weeks")).isInstanceOf(IllegalArgumentException.class);
    }
}
