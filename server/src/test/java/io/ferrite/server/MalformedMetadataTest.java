package io.ferrite.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.coordinator.registry.ServerId;
import io.ferrite.coordinator.registry.ServerRegistry;
import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.proto.v1.ListServersRequest;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.server.testing.InJvmCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad metadata is contained (issue 9, I6): garbage written into a real ZooKeeper (undecodable
 * server records, a record naming another server, unparsable node names, unexpected children)
 * is skipped and logged once; the cached view, the registry, the coordinator, replication, a new
 * server's registration and a master's rejoin after a session expiry all keep working.
 */
class MalformedMetadataTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final byte[] GARBAGE = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07};
    private InJvmCluster cluster;
    private FerriteClient client;

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void garbageNodesAreSkippedAndNothingStops() throws Exception {
        int[] index = {0};
        cluster = InJvmCluster.builder().servers(3).memoryBytes(16L << 20).sessionTimeoutMs(4_000)
                .serverSettings(c -> {
                    int i = index[0]++;
                    c.backup(true).replicas(2).segmentSizeBytes(2 << 20).replicationIpc(false)
                            .backupBufferDir(dir.resolve("s" + i).resolve("buffers"))
                            .backupDir(dir.resolve("s" + i).resolve("backup"));
                }).start();
        client = Ferrite.connect(cluster.coordinatorAddress(),
                ClientOptions.builder().timeout(Duration.ofSeconds(30)).build());
        client.createTable("t", 3);
        Table table = client.table("t");
        table.write(utf8("before"), utf8("1"));

        ClusterPaths paths = new ClusterPaths(cluster.name());
        try (CuratorFramework zk = CuratorFrameworkFactory.newClient(cluster.zookeeper().getConnectString(),
                new RetryOneTime(100))) {
            zk.start();
            assertThat(zk.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
            zk.create().forPath(paths.servers() + "/4000.0", GARBAGE);
            zk.create().forPath(paths.servers() + "/4001.0", ServerInfo.newBuilder().setServerId(4002L << 32)
                    .setStatus(ServerStatus.UP).setAddress("127.0.0.1:1").addServices("backup").build().toByteArray());
            zk.create().forPath(paths.servers() + "/not-a-server", new byte[0]);
            zk.create().forPath(paths.live() + "/junk", new byte[0]);
            zk.create().forPath(paths.tables() + "/broken", GARBAGE);
            zk.create().forPath(paths.table("t") + "/unexpected", GARBAGE);
            zk.create().forPath(paths.dropping() + "/not-a-table-id", new byte[0]);
            zk.create().forPath(paths.dropping() + "/77", new byte[0]);
            zk.create().forPath(paths.dropping() + "/77/nonsense", new byte[0]);
            zk.delete().forPath(paths.live() + "/junk"); // a liveness loss with an unparsable name
        }
        ServerRegistry registry = cluster.server(1).zooKeeperRegistry();
        Awaitility.await("the view skipped the garbage").atMost(WAIT)
                .until(() -> registry.viewMalformed().distinct() >= 3);
        assertThat(registry.servers()).extracting(ServerInfo::getServerId)
                .allMatch(id -> (id >>> 32) < 4000, "only real servers");
        assertThat(registry.servers()).hasSize(3);

        // The coordinator lists servers and tables, creates and drops; replication goes on.
        assertThat(cluster.coordinatorStub().listServers(ListServersRequest.getDefaultInstance()).getServersList())
                .hasSize(3);
        client.createTable("after", 3);
        Table after = client.table("after");
        for (int i = 0; i < 200; i++) {
            table.write(utf8("k" + i), utf8("v" + i));
            after.write(utf8("a" + i), utf8("b" + i));
        }
        client.dropTable("after");
        long readsBefore = registry.viewMalformed().sightings();
        // The garbage is read on every use of the server list, but logged once per node.
        Awaitility.await("read again").atMost(WAIT).until(() -> {
            registry.servers();
            return registry.viewMalformed().sightings() > readsBefore;
        });
        assertThat(registry.viewMalformed().distinct()).as("distinct nodes reported").isLessThan(10);

        // A new server registers; a master rejoins after its session expired.
        FerriteServer fourth = cluster.startServer();
        assertThat(fourth.serverId()).isPresent();
        FerriteServer master = cluster.server(0);
        ServerId id = master.serverId().orElseThrow();
        long oldSession = master.zooKeeperClient().getZookeeperClient().getZooKeeper().getSessionId();
        master.zooKeeperClient().getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
        Awaitility.await("rejoined").atMost(WAIT).until(() -> master.lease().isValid()
                && master.zooKeeperClient().getZookeeperClient().getZooKeeper().getSessionId() != oldSession);
        assertThat(master.serverId()).contains(id);
        assertThat(master.tablets().size()).as("its tablet of 't' kept despite the garbage").isEqualTo(1);
        assertThat(table.read(utf8("before")).orElseThrow().valueAsString()).isEqualTo("1");
        for (int i = 0; i < 200; i++) {
            assertThat(table.read(utf8("k" + i)).orElseThrow().valueAsString()).isEqualTo("v" + i);
        }
        table.write(utf8("after-rejoin"), utf8("2"));
        assertThat(table.read(utf8("after-rejoin")).orElseThrow().valueAsString()).isEqualTo("2");
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
