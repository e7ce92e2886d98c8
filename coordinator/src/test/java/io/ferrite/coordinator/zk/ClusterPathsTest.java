package io.ferrite.coordinator.zk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ferrite.coordinator.registry.ServerId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ClusterPathsTest {
    @ParameterizedTest
    @ValueSource(strings = {"users", "a.b", ".", "..", "%41", "with space", "日本語", "zookeeper", "a:b", "x_y-z"})
    void escapingRoundTripsAndYieldsSafeNodeNames(String name) {
        String node = ClusterPaths.escape(name);
        assertThat(ClusterPaths.unescape(node)).isEqualTo(name);
        assertThat(node).matches("[A-Za-z0-9_%-]+").isNotEqualTo(".").isNotEqualTo("..");
    }

    @Test
    void plainNamesStayReadable() {
        assertThat(ClusterPaths.escape("user_table-1")).isEqualTo("user_table-1");
        assertThat(ClusterPaths.escape("a.b")).isEqualTo("a%2Eb");
    }

    @Test
    void serverNodesRoundTripUnsigned() {
        ServerId id = new ServerId(-1, -2);
        assertThat(ClusterPaths.serverNode(id.asLong())).isEqualTo("4294967295.4294967294");
        assertThat(ClusterPaths.parseServerNode("4294967295.4294967294")).isEqualTo(id.asLong());
        assertThat(ClusterPaths.serverNode(new ServerId(3, 1).asLong())).isEqualTo("3.1");
        assertThat(ServerId.of(new ServerId(3, 1).asLong())).isEqualTo(new ServerId(3, 1));
        assertThat(new ServerId(3, 1).asLong()).isEqualTo(3L << 32 | 1);
    }

    @Test
    void layoutIsUnderFerriteCluster() {
        ClusterPaths paths = new ClusterPaths("prod");
        assertThat(paths.root()).isEqualTo("/ferrite/prod");
        assertThat(paths.server(new ServerId(2, 0).asLong())).isEqualTo("/ferrite/prod/servers/2.0");
        assertThat(paths.tablet("my table", 3)).isEqualTo("/ferrite/prod/tables/my%20table/000003");
        assertThat(paths.coordinator("127.0.0.1:7100")).isEqualTo("/ferrite/prod/coordinators/127.0.0.1:7100");
    }

    @Test
    void clusterNamesAreChecked() {
        assertThatThrownBy(() -> new ClusterPaths("a/b")).hasMessageStartingWith("cluster:");
        assertThatThrownBy(() -> new ClusterPaths("..")).hasMessageStartingWith("cluster:");
        assertThatThrownBy(() -> new ClusterPaths("")).hasMessageStartingWith("cluster:");
        assertThatThrownBy(() -> new ClusterPaths("x".repeat(65))).hasMessageStartingWith("cluster:");
    }
}
