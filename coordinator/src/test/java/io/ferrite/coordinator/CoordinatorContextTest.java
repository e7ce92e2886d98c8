package io.ferrite.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CoordinatorContextTest {
    private static CoordinatorContext valid() {
        return new CoordinatorContext().zkConnect("127.0.0.1:2181");
    }

    @Test
    void defaultsConclude() {
        CoordinatorContext context = valid().conclude();
        assertThat(context.cluster()).isEqualTo("default");
        assertThat(context.advertisedHost()).isEqualTo("127.0.0.1");
        assertThat(context.listenPort()).isEqualTo(CoordinatorContext.DEFAULT_LISTEN_PORT);
    }

    @Test
    void eachBadSettingIsNamed() {
        assertThatThrownBy(() -> new CoordinatorContext().conclude()).hasMessageStartingWith("zookeeper:");
        assertThatThrownBy(() -> valid().zkConnect("localhost").conclude()).hasMessageStartingWith("zookeeper:");
        assertThatThrownBy(() -> valid().zkConnect("a:1,b:x").conclude()).hasMessageStartingWith("zookeeper:");
        assertThatThrownBy(() -> valid().cluster("a b").conclude()).hasMessageStartingWith("cluster:");
        assertThatThrownBy(() -> valid().listenPort(70_000).conclude()).hasMessageStartingWith("listen-port:");
        assertThatThrownBy(() -> valid().listenHost("").conclude()).hasMessageStartingWith("listen-host:");
        assertThatThrownBy(() -> valid().sessionTimeoutMs(0).conclude()).hasMessageStartingWith("session-timeout-ms:");
        assertThatThrownBy(() -> valid().forwardTimeoutMs(1_000).masterRpcTimeoutMs(2_000).conclude())
                .hasMessageStartingWith("forward-timeout-ms:");
    }

    @Test
    void chrootedConnectStringsAreAccepted() {
        assertThat(valid().zkConnect("a:2181,b:2181/apps").conclude().zkConnect()).isEqualTo("a:2181,b:2181/apps");
    }

    @Test
    void startRequiresConclude() {
        assertThatThrownBy(() -> Coordinator.start(valid())).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("conclude");
    }
}
