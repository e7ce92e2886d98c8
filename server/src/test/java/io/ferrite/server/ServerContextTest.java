package io.ferrite.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ferrite.master.memory.MemoryBackend;
import io.ferrite.server.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerContextTest {
    @TempDir
    Path dir;

    private static ServerContext fromFlags(Map<String, String> flags) {
        return ServerContext.from(Settings.of(flags)).conclude();
    }

    @Test
    void defaults() {
        ServerContext c = fromFlags(Map.of());
        assertThat(c.cluster()).isEqualTo("default");
        assertThat(c.zkConnect()).isEqualTo("127.0.0.1:2181");
        assertThat(c.listenHost()).isEqualTo("127.0.0.1");
        assertThat(c.listenPort()).isEqualTo(7200);
        assertThat(c.advertisedHost()).isEqualTo("127.0.0.1");
        assertThat(c.memoryBytes()).isEqualTo(1L << 30);
        assertThat(c.memoryBackend()).isEqualTo(MemoryBackend.DRAM);
        assertThat(c.metricsPort()).isZero();
        assertThat(c.dataExecutor()).isEqualTo(ServerContext.DataExecutor.DIRECT);
        assertThat(c.stableName("127.0.0.1:7200")).isEqualTo("127.0.0.1:7200");
    }

    @Test
    void flagsWinOverEnvironmentWhichWinsOverTheFile() throws Exception {
        Path file = dir.resolve("server.properties");
        Files.writeString(file, "memory=256m\ncluster=from-file\nsegment-size=2m\nfailure-domain=rack-9\n");
        Map<String, String> env = Map.of("FERRITE_MEMORY", "128m", "FERRITE_CLUSTER", "from-env",
                "FERRITE_UNRELATED", "ignored");
        Map<String, String> flags = Map.of("memory", "64m");
        ServerContext c = ServerContext.from(Settings.load(ServerContext.SETTINGS, flags, env, file)).conclude();
        assertThat(c.memoryBytes()).isEqualTo(64L << 20);
        assertThat(c.cluster()).isEqualTo("from-env");
        assertThat(c.segmentSizeBytes()).isEqualTo(2L << 20);
        assertThat(c.failureDomain()).isEqualTo("rack-9");
    }

    @Test
    void unknownSettingInTheFileIsNamed() throws Exception {
        Path file = dir.resolve("typo.properties");
        Files.writeString(file, "memroy=1g\n");
        assertThatThrownBy(() -> Settings.load(ServerContext.SETTINGS, Map.of(), Map.of(), file))
                .hasMessageContaining("'memroy'");
    }

    @Test
    void badValuesAreNamedWithTheirSource() {
        assertThatThrownBy(() -> fromFlags(Map.of("memory", "12q")))
                .hasMessageStartingWith("memory: '12q' (flag --memory) is not a size");
        assertThatThrownBy(() -> ServerContext.from(Settings.load(ServerContext.SETTINGS, Map.of(),
                Map.of("FERRITE_LISTEN_PORT", "http"), null)))
                .hasMessageStartingWith("listen-port: 'http' (environment FERRITE_LISTEN_PORT)");
        assertThatThrownBy(() -> fromFlags(Map.of("listen-port", "70000"))).hasMessageStartingWith("listen-port:");
        assertThatThrownBy(() -> fromFlags(Map.of("metrics-port", "-5"))).hasMessageStartingWith("metrics-port:");
        assertThatThrownBy(() -> fromFlags(Map.of("memory-backend", "disk")))
                .hasMessageStartingWith("memory-backend: 'disk'");
        assertThatThrownBy(() -> fromFlags(Map.of("memory-backend", "pmem"))).hasMessageStartingWith("pmem-dir:");
        assertThatThrownBy(() -> fromFlags(Map.of("memory", "4m"))).hasMessageStartingWith("memory:");
        assertThatThrownBy(() -> fromFlags(Map.of("segment-size", "100k"))).hasMessageStartingWith("segment-size:");
        assertThatThrownBy(() -> fromFlags(Map.of("cleaner-threads", "-1"))).hasMessageStartingWith("cleaner-threads:");
        assertThatThrownBy(() -> fromFlags(Map.of("cluster", "a/b"))).hasMessageStartingWith("cluster:");
        assertThatThrownBy(() -> fromFlags(Map.of("zookeeper", "localhost"))).hasMessageStartingWith("zookeeper:");
        assertThatThrownBy(() -> fromFlags(Map.of("data-executor", "threads")))
                .hasMessageStartingWith("data-executor:");
        assertThatThrownBy(() -> fromFlags(Map.of("advertised-address", "host:99999")))
                .hasMessageStartingWith("advertised-address:");
        assertThatThrownBy(() -> fromFlags(Map.of("server-name", "x".repeat(300))))
                .hasMessageStartingWith("server-name:");
        assertThatThrownBy(() -> fromFlags(Map.of("replication-term-length", "3m")))
                .hasMessageStartingWith("replication-term-length: 3145728 is not a power of two");
        assertThatThrownBy(() -> fromFlags(Map.of("replication-term-length", "32k")))
                .hasMessageStartingWith("replication-term-length:");
        assertThatThrownBy(() -> fromFlags(Map.of("replication-term-length", "4g")))
                .hasMessageStartingWith("replication-term-length:");
        assertThatThrownBy(() -> fromFlags(Map.of("replication-mtu", "1000")))
                .hasMessageStartingWith("replication-mtu: 1000 is not a multiple of 32");
        assertThatThrownBy(() -> fromFlags(Map.of("replication-mtu", "64k")))
                .hasMessageStartingWith("replication-mtu:");
        assertThatThrownBy(() -> fromFlags(Map.of("replication-term-length", "64k", "replication-mtu", "16k")))
                .hasMessageStartingWith("replication-mtu: 16384 exceeds an eighth of the term length");
        assertThatThrownBy(() -> fromFlags(Map.of("replication-ipc", "maybe")))
                .hasMessageStartingWith("replication-ipc: 'maybe'");
    }

    @Test
    void replicationTransportSettings() {
        ServerContext defaults = fromFlags(Map.of());
        assertThat(defaults.transportOptions())
                .isEqualTo(io.ferrite.server.replication.AeronTransport.Options.DEFAULT);
        assertThat(defaults.replicationIpc()).isTrue();
        ServerContext c = fromFlags(Map.of("replication-term-length", "1m", "replication-mtu", "8k",
                "replication-ipc", "off"));
        assertThat(c.transportOptions().termLength()).isEqualTo(1 << 20);
        assertThat(c.transportOptions().mtu()).isEqualTo(8 << 10);
        assertThat(c.transportOptions().maxMessageBytes()).isEqualTo(128 << 10);
        assertThat(c.replicationIpc()).isFalse();
    }

    @Test
    void derivedSettings() {
        ServerContext c = fromFlags(Map.of("memory-backend", "PMEM", "data-dir", dir.toString(),
                "advertised-address", "node7.example:9000", "metrics-port", "off", "memory", "512MiB"));
        assertThat(c.pmemDir()).isEqualTo(dir.resolve("pmem"));
        assertThat(c.advertisedHost()).isEqualTo("node7.example");
        assertThat(c.advertisedPort()).isEqualTo(9000);
        assertThat(c.metricsPort()).isEqualTo(ServerContext.METRICS_OFF);
        assertThat(c.memoryBytes()).isEqualTo(512L << 20);
        assertThat(c.stableName("node7.example:9000")).isEqualTo("node7.example:" + dir.toAbsolutePath());
        assertThat(fromFlags(Map.of("server-name", "alpha")).stableName("h:1")).isEqualTo("alpha");
    }
}
