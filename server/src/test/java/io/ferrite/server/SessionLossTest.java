package io.ferrite.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.coordinator.registry.ServerId;
import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.proto.v1.ListReplicasRequest;
import io.ferrite.proto.v1.ListServersRequest;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatsRequest;
import io.ferrite.proto.v1.ServerStatsResponse;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.server.lease.Lease;
import io.ferrite.server.testing.InJvmCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.data.Stat;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Losing ZooKeeper is not a crash (issue 9, I5), in one JVM against a real ZooKeeper: a master
 * whose session expires keeps its memory and its id, rejoins under that id (the server list shows
 * it UP again, its liveness node belongs to its new session), serves every acknowledged key again,
 * and keeps its log's replicas; a table dropped while it was out is dropped when it rejoins.
 */
class SessionLossTest {
    private static final long SEED = Long.getLong("ferrite.seed", 0x5E55_1055L);
    private static final Duration WAIT = Duration.ofSeconds(30);
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

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void anExpiredSessionRejoinsUnderTheSameIdAndLosesNothing() throws Exception {
        System.out.printf("SessionLossTest: seed %d%n", SEED);
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
        client.createTable("kept", 3);
        Table table = client.table("kept");
        Random random = new Random(SEED);
        Map<String, String> acknowledged = new HashMap<>();
        write(table, random, 0, 40, acknowledged);

        FerriteServer victim = cluster.server(0);
        ServerId id = victim.serverId().orElseThrow();
        CuratorFramework zk = victim.zooKeeperClient();
        long oldSession = zk.getZookeeperClient().getZooKeeper().getSessionId();
        String live = new ClusterPaths(cluster.name()).live(id.asLong());
        zk.getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();

        // It rejoins: same id, UP in the server list, its liveness node owned by a new session.
        Awaitility.await("rejoined under the same id").atMost(WAIT).pollInterval(Duration.ofMillis(20))
                .until(() -> victim.lease().isValid() && liveOwner(zk, live) != 0 && liveOwner(zk, live) != oldSession
                        && liveOwner(zk, live) == zk.getZookeeperClient().getZooKeeper().getSessionId());
        assertThat(victim.serverId()).contains(id);
        Awaitility.await("listed UP under " + id).atMost(WAIT).until(() -> status(id) == ServerStatus.UP);
        assertThat(servers().stream().filter(s -> (s.getServerId() >>> 32) == id.indexUnsigned()))
                .as("no new generation of index %d", id.indexUnsigned()).extracting(ServerInfo::getServerId)
                .containsExactly(id.asLong());
        assertThat(victim.tablets().size()).as("its tablets").isEqualTo(1);

        // Nothing lost: every acknowledged key reads back; writes work again.
        assertReadBack(table, acknowledged);
        write(table, random, 40, 20, acknowledged);
        assertReadBack(table, acknowledged);
        // ... and its log is whole on two backups under the same identity.
        awaitTwoCopies(victim);
    }

    @Test
    void aTableDroppedWhileTheMasterWasOutIsDroppedWhenItRejoins() throws Exception {
        cluster = InJvmCluster.builder().servers(1).sessionTimeoutMs(4_000).start();
        client = Ferrite.connect(cluster.coordinatorAddress(),
                ClientOptions.builder().timeout(Duration.ofSeconds(30)).build());
        client.createTable("kept", 1);
        client.createTable("gone", 1);
        Table kept = client.table("kept");
        Table gone = client.table("gone");
        Map<String, String> acknowledged = new HashMap<>();
        for (int i = 0; i < 200; i++) {
            kept.write(utf8("k" + i), utf8("v" + i));
            gone.write(utf8("g" + i), utf8("w" + i));
            acknowledged.put("k" + i, "v" + i);
        }
        FerriteServer server = cluster.server(0);
        ServerId id = server.serverId().orElseThrow();
        long goneId = cluster.tabletMap("gone").getTableId();
        assertThat(server.engine().stats().liveObjects()).isEqualTo(400);

        // While the master is out, the failure detector declares it CRASHED (done here by hand,
        // so the master does not notice) and the table is dropped: the leader clears the drop
        // marker of an owner that is not UP at once, so the master is never told.
        try (CuratorFramework zk = CuratorFrameworkFactory.newClient(cluster.zookeeper().getConnectString(),
                new RetryOneTime(100))) {
            zk.start();
            assertThat(zk.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
            String record = new ClusterPaths(cluster.name()).server(id.asLong());
            ServerInfo info = ServerInfo.parseFrom(zk.getData().forPath(record));
            zk.setData().forPath(record, info.toBuilder().setStatus(ServerStatus.CRASHED).build().toByteArray());
        }
        Awaitility.await("listed CRASHED").atMost(WAIT).until(() -> status(id) == ServerStatus.CRASHED);
        client.dropTable("gone");
        Awaitility.await("drop finished").atMost(WAIT).until(() -> cluster.coordinatorStub()
                .getTabletMap(io.ferrite.proto.v1.GetTabletMapRequest.newBuilder().setName("gone").build())
                .getTabletsCount() == 0);
        assertThat(server.tablets().ownsAny(goneId)).as("the master was not told").isTrue();
        server.zooKeeperClient().getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();

        Awaitility.await("rejoined with the dropped table's data gone").atMost(WAIT)
                .pollInterval(Duration.ofMillis(20))
                .until(() -> server.lease().isValid() && !server.tablets().ownsAny(goneId));
        assertThat(server.serverId()).contains(id);
        assertThat(server.lease().state()).isEqualTo(Lease.State.VALID);
        Awaitility.await("listed UP again").atMost(WAIT).until(() -> status(id) == ServerStatus.UP);
        assertThat(server.engine().stats().liveObjects()).as("only the kept table's objects").isEqualTo(200);
        assertReadBack(kept, acknowledged);
    }

    private static long liveOwner(CuratorFramework zk, String path) throws Exception {
        Stat stat = zk.checkExists().forPath(path);
        return stat == null ? 0 : stat.getEphemeralOwner();
    }

    private List<ServerInfo> servers() {
        return cluster.coordinatorStub().listServers(ListServersRequest.getDefaultInstance()).getServersList();
    }

    private ServerStatus status(ServerId id) {
        return servers().stream().filter(s -> s.getServerId() == id.asLong()).map(ServerInfo::getStatus)
                .findFirst().orElse(ServerStatus.REMOVED);
    }

    /** Every segment of the master's log has two sound replicas on the other servers, under its id. */
    private void awaitTwoCopies(FerriteServer master) {
        Awaitility.await("two sound copies of every segment").atMost(WAIT).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> {
                    ServerStatsResponse stats = cluster.controlStub(master.address())
                            .serverStats(ServerStatsRequest.getDefaultInstance());
                    assertThat(stats.getServerId()).isEqualTo(master.serverId().orElseThrow().asLong());
                    Map<Long, Integer> held = new HashMap<>();
                    for (FerriteServer backup : cluster.servers()) {
                        if (backup == master) {
                            continue;
                        }
                        cluster.controlStub(backup.address()).listReplicas(ListReplicasRequest.newBuilder()
                                        .setMasterId(stats.getServerId()).build()).getReplicasList().stream()
                                .filter(r -> !r.getState().equals("CORRUPT"))
                                .forEach(r -> held.merge(r.getSegmentId(), 1, Integer::sum));
                    }
                    for (long segment : stats.getLogSegmentIdsList()) {
                        assertThat(held.getOrDefault(segment, 0)).as("seed %d: copies of segment %d", SEED, segment)
                                .isEqualTo(2);
                    }
                });
    }

    private static void write(Table table, Random random, int firstBatch, int batches, Map<String, String> acknowledged)
            throws Exception {
        for (int batch = firstBatch; batch < firstBatch + batches; batch++) {
            Map<String, CompletableFuture<Long>> futures = new HashMap<>();
            Map<String, String> values = new HashMap<>();
            while (futures.size() < 32) {
                String key = "key-" + random.nextInt(1_000);
                if (!futures.containsKey(key)) {
                    String value = "v" + batch + "-" + "x".repeat(random.nextInt(1_000));
                    values.put(key, value);
                    futures.put(key, table.writeAsync(utf8(key), utf8(value)));
                }
            }
            for (Map.Entry<String, CompletableFuture<Long>> e : futures.entrySet()) {
                e.getValue().get(60, TimeUnit.SECONDS);
                acknowledged.put(e.getKey(), values.get(e.getKey()));
            }
        }
    }

    private static void assertReadBack(Table table, Map<String, String> acknowledged) {
        for (Map.Entry<String, String> e : acknowledged.entrySet()) {
            assertThat(table.read(utf8(e.getKey())).orElseThrow().valueAsString())
                    .as("seed %d key %s", SEED, e.getKey()).isEqualTo(e.getValue());
        }
    }
}
