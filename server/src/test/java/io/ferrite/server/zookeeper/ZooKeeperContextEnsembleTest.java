package io.ferrite.server.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ferrite.server.config.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ZooKeeperContextEnsembleTest {
    private static final String THREE = "1=127.0.0.2:2888:3888, 2=127.0.0.3:2888:3888,3=127.0.0.4:2888:3888";

    private static ZooKeeperContext fromFlags(Map<String, String> flags) {
        return ZooKeeperContext.from(Settings.of(flags)).dataDir(java.nio.file.Path.of("zk")).conclude();
    }

    @Test
    void standaloneByDefault() {
        ZooKeeperContext c = fromFlags(Map.of());
        assertThat(c.ensemble()).isNull();
        assertThat(c.ensembleId()).isEqualTo(ZooKeeperContext.NO_ENSEMBLE_ID);
    }

    @Test
    void ensembleFromFlags() {
        ZooKeeperContext c = fromFlags(Map.of("ensemble", THREE, "ensemble-id", "2", "ensemble-wait-ms", "0"));
        assertThat(c.ensembleId()).isEqualTo(2);
        assertThat(c.ensembleWaitMs()).isZero();
        assertThat(c.ensemble().members()).extracting(ZooKeeperEnsemble.Member::serverAddress)
                .containsExactly("127.0.0.2:2888:3888", "127.0.0.3:2888:3888", "127.0.0.4:2888:3888");
        assertThat(c.ensemble().quorumSize()).isEqualTo(2);
        assertThat(c.ensemble().toString()).isEqualTo(THREE.replace(" ", ""));
    }

    @Test
    void ensembleFromEnvironment() {
        Settings settings = Settings.load(ZooKeeperContext.SETTINGS, Map.of(),
                Map.of("FERRITE_ENSEMBLE", THREE, "FERRITE_ENSEMBLE_ID", "3", "FERRITE_DATA_DIR", "zk"), null);
        ZooKeeperContext c = ZooKeeperContext.from(settings).conclude();
        assertThat(c.ensemble().member(3)).isPresent();
        assertThat(c.ensembleId()).isEqualTo(3);
    }

    @Test
    void badEnsemblesAreNamed() {
        assertThatThrownBy(() -> fromFlags(Map.of("ensemble", THREE)))
                .hasMessageStartingWith("ensemble-id: must be given");
        assertThatThrownBy(() -> fromFlags(Map.of("ensemble-id", "1")))
                .hasMessageStartingWith("ensemble-id: 1 is given without ensemble");
        assertThatThrownBy(() -> fromFlags(Map.of("ensemble", THREE, "ensemble-id", "4")))
                .hasMessageStartingWith("ensemble-id: 4 is not a member");
        assertThatThrownBy(() -> fromFlags(Map.of("ensemble", "1=h:2888", "ensemble-id", "1")))
                .hasMessageStartingWith("ensemble: '1=h:2888' is not ID=HOST:PEER_PORT:ELECTION_PORT");
        assertThatThrownBy(() -> fromFlags(Map.of("ensemble", "1=h:1:2,1=g:1:2", "ensemble-id", "1")))
                .hasMessageStartingWith("ensemble: member id 1 is given twice");
        assertThatThrownBy(() -> fromFlags(Map.of("ensemble", "1=h:1:2,2=h:2:3", "ensemble-id", "1")))
                .hasMessageContaining("reuses a host:port");
        assertThatThrownBy(() -> fromFlags(Map.of("ensemble", "0=h:1:2", "ensemble-id", "1")))
                .hasMessageContaining("outside 1..255");
        assertThatThrownBy(() -> fromFlags(Map.of("ensemble", "1=h:1:70000", "ensemble-id", "1")))
                .hasMessageContaining("port 70000 is outside 1..65535");
    }
}
