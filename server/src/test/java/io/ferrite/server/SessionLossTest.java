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
 * and keeps its log's replicas (its heartbeats go on, so the failure detector, probing it when its
 * liveness node goes, finds it alive). A master whose record turns CRASHED is deposed for good.
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

    /**
     * CRASHED is final (issue 10): the failure detector writes it only once the server's lease
     * has expired, and recovery may reassign its tablets as soon as it sees it. A master whose
     * record turns CRASHED while it still runs (here written by hand, as a detector that judged
     * it dead would) is deposed: it forgets its tablets, answers UNKNOWN_TABLET, and a later
     * rejoin (its session expiring) refuses to bring it back under that id.
     */
    @Test
    void aMasterDeclaredCrashedIsDeposedAndNeverServesUnderItsIdAgain() throws Exception {
        cluster = InJvmCluster.builder().servers(1).sessionTimeoutMs(4_000).start();
        client = Ferrite.connect(cluster.coordinatorAddress(),
                ClientOptions.builder().timeout(Duration.ofSeconds(30)).build());
        client.createTable("kept", 1);
        Table kept = client.table("kept");
        for (int i = 0; i < 200; i++) {
            kept.write(utf8("k" + i), utf8("v" + i));
        }
        FerriteServer server = cluster.server(0);
        ServerId id = server.serverId().orElseThrow();
        long keptId = cluster.tabletMap("kept").getTableId();
        assertThat(server.engine().stats().liveObjects()).isEqualTo(200);

        try (CuratorFramework zk = CuratorFrameworkFactory.newClient(cluster.zookeeper().getConnectString(),
                new RetryOneTime(100))) {
            zk.start();
            assertThat(zk.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
            String record = new ClusterPaths(cluster.name()).server(id.asLong());
            ServerInfo info = ServerInfo.parseFrom(zk.getData().forPath(record));
            zk.setData().forPath(record, info.toBuilder().setStatus(ServerStatus.CRASHED).build().toByteArray());
        }
        Awaitility.await("deposed").atMost(WAIT).pollInterval(Duration.ofMillis(20))
                .until(() -> server.lease().isDeposed() && server.deposed().isDone());
        assertThat(server.lease().isValid()).isFalse();
        assertThat(server.tablets().ownsAny(keptId)).as("its tablets are forgotten").isFalse();
        assertThat(server.engine().stats().liveObjects()).as("and their data dropped").isZero();
        io.ferrite.proto.v1.ReadResponse refused = cluster.dataStub(server.address()).read(
                io.ferrite.proto.v1.ReadRequest.newBuilder().setTableId(keptId)
                        .setKey(com.google.protobuf.ByteString.copyFromUtf8("k1")).build());
        assertThat(refused.getStatus()).isEqualTo(io.ferrite.proto.v1.Status.UNKNOWN_TABLET);

        // Its session expiring does not bring it back: the rejoin finds the record CRASHED (or
        // REMOVED, once the leader has decided its recovery).
        server.zooKeeperClient().getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
        Awaitility.await("session renewed").atMost(WAIT)
                .until(() -> server.zooKeeperClient().getZookeeperClient().isConnected());
        Awaitility.await().during(Duration.ofSeconds(2)).atMost(WAIT)
                .until(() -> !server.lease().isValid() && status(id) != ServerStatus.UP);
        assertThat(server.lease().state()).isEqualTo(Lease.State.LOST);
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
