package io.ferrite.coordinator.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ServerRegistryTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final AtomicInteger CLUSTERS = new AtomicInteger();
    private static TestingServer zk;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        zk = new TestingServer(true);
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        zk.close();
    }

    private static String newCluster() {
        return "registry-" + CLUSTERS.incrementAndGet();
    }

    private static ServerRegistry connect(String cluster) throws InterruptedException {
        return ServerRegistry.connect(zk.getConnectString(), cluster, TIMEOUT, TIMEOUT);
    }

    @Test
    void newNamesGetNewIndexesAndARestartGetsTheNextGeneration() throws Exception {
        String cluster = newCluster();
        ServerId first;
        try (ServerRegistry a = connect(cluster); ServerRegistry b = connect(cluster)) {
            first = a.register("node-a", "127.0.0.1:9001", List.of("master", "backup"), "rack-1");
            ServerId second = b.register("node-b", "127.0.0.1:9002", List.of("backup"), null);
            assertThat(first).isEqualTo(new ServerId(1, 0));
            assertThat(second).isEqualTo(new ServerId(2, 0));
            assertThat(a.serverId()).contains(first);
            assertThat(a.isLeaseValid()).isTrue();

            // Each learns the whole list through its cache.
            assertThat(a.awaitServers(servers -> servers.size() == 2, TIMEOUT)).isTrue();
            ServerInfo recordA = a.server(first).orElseThrow();
            assertThat(recordA.getAddress()).isEqualTo("127.0.0.1:9001");
            assertThat(recordA.getServicesList()).containsExactly("master", "backup");
            assertThat(recordA.getFailureDomain()).isEqualTo("rack-1");
            assertThat(recordA.getStatus()).isEqualTo(ServerStatus.UP);
            assertThat(recordA.getServerId()).isEqualTo(first.asLong());
            await().atMost(TIMEOUT).until(() -> a.isLive(first));
            assertThat(b.awaitServers(servers -> servers.size() == 2, TIMEOUT)).isTrue();
        }
        try (ServerRegistry restarted = connect(cluster)) {
            ServerId again = restarted.register("node-a", "127.0.0.1:9011", List.of("master"), "");
            assertThat(again).isEqualTo(new ServerId(1, 1)).isEqualTo(first.nextGeneration());
            await().atMost(TIMEOUT).until(() -> restarted.isLive(again));
            assertThat(restarted.awaitServers(servers -> servers.size() == 3, TIMEOUT)).isTrue();
            // The old generation's record stays (no coordinator runs here to mark it CRASHED),
            // but its liveness node went with its session.
            assertThat(restarted.isLive(first)).isFalse();
            assertThat(restarted.server(again).orElseThrow().getAddress()).isEqualTo("127.0.0.1:9011");
        }
    }

    @Test
    void concurrentRegistrationsGetDistinctIndexes() throws Exception {
        String cluster = newCluster();
        int count = 6;
        List<ServerRegistry> registries = new CopyOnWriteArrayList<>();
        List<ServerId> ids = new CopyOnWriteArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                registries.add(connect(cluster));
            }
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int n = i;
                threads.add(Thread.ofVirtual().start(() -> {
                    try {
                        ids.add(registries.get(n).register("node-" + n, "127.0.0.1:" + (9100 + n),
                                List.of("master"), null));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            for (Thread thread : threads) {
                thread.join();
            }
            assertThat(ids).hasSize(count).doesNotHaveDuplicates();
            assertThat(ids).extracting(ServerId::index).containsExactlyInAnyOrder(1, 2, 3, 4, 5, 6);
        } finally {
            for (ServerRegistry registry : registries) {
                registry.close();
            }
        }
    }

    @Test
    void listenersHearOfNewServers() throws Exception {
        String cluster = newCluster();
        try (ServerRegistry watcher = connect(cluster); ServerRegistry joiner = connect(cluster)) {
            List<ServerInfo> seen = new CopyOnWriteArrayList<>();
            watcher.addListener(seen::add);
            ServerId id = joiner.register("joiner", "127.0.0.1:9200", List.of("master"), null);
            await().atMost(TIMEOUT).until(() -> seen.stream().anyMatch(s -> s.getServerId() == id.asLong()));
        }
    }

    @Test
    void badArgumentsAreRefused() throws Exception {
        try (ServerRegistry registry = connect(newCluster())) {
            assertThatThrownBy(() -> registry.register("", "127.0.0.1:1", List.of("master"), null))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> registry.register("x", "no-port", List.of("master"), null))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> registry.register("x", "h:70000", List.of("master"), null))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> registry.register("x", "h:1", List.of(), null))
                    .isInstanceOf(IllegalArgumentException.class);
            registry.register("x", "h:1", List.of("master"), null);
            assertThatThrownBy(() -> registry.register("x", "h:1", List.of("master"), null))
                    .isInstanceOf(IllegalStateException.class);
        }
    }
}
