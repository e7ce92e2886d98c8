package io.ferrite.server.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.proto.KeyHash;
import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.DataServiceGrpc;
import io.ferrite.proto.v1.GetTabletMapRequest;
import io.ferrite.proto.v1.ListServersRequest;
import io.ferrite.proto.v1.ReadRequest;
import io.ferrite.proto.v1.ReadResponse;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatsRequest;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.Tablet;
import io.ferrite.proto.v1.TabletState;
import io.ferrite.proto.v1.WriteRequest;
import io.ferrite.proto.v1.WriteResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zombie master, with real processes and real signals: a {@code ferrite local} cluster of
 * three servers replicating twice, ~1,000 keys acknowledged. One master is SIGSTOPped past its
 * lease; the leader declares it CRASHED (its ZooKeeper session, 10 s, is still alive), then it
 * is SIGCONTed. From then on it acknowledges no write and serves no read: every request sent to
 * it directly answers RETRY or UNKNOWN_TABLET (or finds the process gone), never OK. It learns
 * that it was declared (heartbeat answer, or its own record in its cached view), is deposed and
 * its process stops; its record stays CRASHED and no server ever serves under its id again.
 * Nothing acknowledged is lost: the other masters' keys read back, and the zombie's are in the
 * certified replicas of its log on the two backups, which refused to free any of them.
 */
class ZombieMasterProcessTest {
    private static final long SEED = Long.getLong("ferrite.seed", 0x20B_0010L);
    private static final int KEYS = 1_000;

    @TempDir
    Path dir;

    @Test
    void aMasterResumedAfterBeingDeclaredCrashedServesNothingAndIsDeposed() throws Exception {
        System.out.printf("ZombieMasterProcessTest: seed %d%n", SEED);
        // Four servers: once the zombie is declared, its tablets are recovered onto the other three,
        // each still with two live backups (R=2).
        LocalContext context = new LocalContext().servers(4).replicas(2).memory("32m").dataDir(dir)
                .serverFlags(List.of("--segment-size", "2m")).conclude();
        LocalCluster cluster = LocalCluster.start(context, new PrintStream(OutputStream.nullOutputStream()));
        ManagedChannel coordinatorChannel = NettyChannelBuilder.forTarget(cluster.address()).usePlaintext().build();
        ManagedChannel zombieChannel = null;
        try (ClusterProbe probe = new ClusterProbe();
             FerriteClient client = Ferrite.connect(cluster.address(),
                     ClientOptions.builder().timeout(Duration.ofSeconds(30)).build())) {
            CoordinatorServiceGrpc.CoordinatorServiceBlockingStub coordinator =
                    CoordinatorServiceGrpc.newBlockingStub(coordinatorChannel);
            client.createTable("zombie", 3);
            Table table = client.table("zombie");
            Random random = new Random(SEED);
            Map<String, String> acknowledged = new HashMap<>();
            for (int batch = 0; acknowledged.size() < KEYS * 6 / 10; batch++) {
                ClusterProbe.Batch.submit(table, random, batch, KEYS, 500).complete(acknowledged);
            }
            List<Tablet> tablets = coordinator.getTabletMap(GetTabletMapRequest.newBuilder().setName("zombie").build())
                    .getTabletsList();
            long tableId = tablets.getFirst().getTableId();
            Map<String, ProcessHandle> processes = cluster.serverProcesses();
            String zombie = tablets.getFirst().getOwnerAddress();
            long zombieId = probe.control(zombie).serverStats(ServerStatsRequest.getDefaultInstance()).getServerId();
            List<String> backups = processes.keySet().stream().filter(a -> !a.equals(zombie)).toList();
            List<String> zombieKeys = acknowledged.keySet().stream()
                    .filter(k -> ownerOf(tablets, k).equals(zombie)).sorted().toList();
            assertThat(zombieKeys).isNotEmpty();
            zombieChannel = NettyChannelBuilder.forTarget(zombie).usePlaintext().build();
            DataServiceGrpc.DataServiceBlockingStub toZombie = DataServiceGrpc.newBlockingStub(zombieChannel);
            assertThat(read(toZombie, tableId, zombieKeys.getFirst()).getStatus()).isEqualTo(Status.OK);

            // SIGSTOP past its lease: the leader declares it CRASHED while it cannot notice.
            ProcessHandle process = processes.get(zombie);
            long stoppedNs = System.nanoTime();
            FailureDetectionProcessTest.signal(process, "STOP");
            try {
                Awaitility.await("declared CRASHED while stopped").pollInterval(Duration.ofMillis(10))
                        .atMost(Duration.ofSeconds(30)).until(() -> status(coordinator, zombieId) != ServerStatus.UP);
                System.out.printf("stopped master %s declared CRASHED %.0f ms after SIGSTOP%n", zombie,
                        (System.nanoTime() - stoppedNs) / 1e6);
            } finally {
                FailureDetectionProcessTest.signal(process, "CONT");
            }

            // Resumed: whatever it answers, it is never OK, until it stops.
            Map<Status, Integer> answers = new HashMap<>();
            int transportFailures = 0;
            long untilNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            for (int i = 0; System.nanoTime() < untilNs && process.isAlive() && transportFailures < 100; i++) {
                String key = zombieKeys.get(i % zombieKeys.size());
                try {
                    Status r = read(toZombie, tableId, key).getStatus();
                    Status w = write(toZombie, tableId, key, "zombie-" + i).getStatus();
                    assertThat(r).as("read of %s from the zombie", key).isIn(Status.RETRY, Status.UNKNOWN_TABLET);
                    assertThat(w).as("write of %s to the zombie", key).isIn(Status.RETRY, Status.UNKNOWN_TABLET);
                    answers.merge(r, 1, Integer::sum);
                    answers.merge(w, 1, Integer::sum);
                } catch (StatusRuntimeException e) {
                    transportFailures++; // the deposed process is stopping
                }
            }
            System.out.printf("the zombie answered %s, %d call(s) failed in transport%n", answers, transportFailures);
            assertThat(process.onExit().get(60, TimeUnit.SECONDS).isAlive()).as("the deposed server stopped").isFalse();
            assertThat(Files.readString(context.logFile(serverName(cluster, zombie)))).contains("deposed");

            // Its id is never UP again: CRASHED, then REMOVED once its recovery is decided.
            assertThat(status(coordinator, zombieId)).isIn(ServerStatus.CRASHED, ServerStatus.REMOVED);

            // Nothing acknowledged is lost: its tablets are recovered onto the live masters, every
            // key reads back, and lies in the certified replicas of the new owners' logs.
            Awaitility.await("the zombie's tablets recovered").atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(50)).until(() -> coordinator.getTabletMap(GetTabletMapRequest
                            .newBuilder().setName("zombie").build()).getTabletsList().stream()
                            .allMatch(t -> t.getState() == TabletState.NORMAL && t.getOwnerId() != zombieId));
            ClusterProbe.assertReadBack(table, acknowledged, SEED);
            probe.assertAcknowledgedInCertifiedReplicas(probe.owners(cluster.address(), "zombie"), backups, acknowledged,
                    SEED);
        } finally {
            if (zombieChannel != null) {
                zombieChannel.shutdownNow();
            }
            coordinatorChannel.shutdownNow();
            cluster.stop();
        }
    }

    private static ReadResponse read(DataServiceGrpc.DataServiceBlockingStub stub, long tableId, String key) {
        return stub.withDeadlineAfter(5, TimeUnit.SECONDS).read(ReadRequest.newBuilder().setTableId(tableId)
                .setKey(ByteString.copyFromUtf8(key)).build());
    }

    private static WriteResponse write(DataServiceGrpc.DataServiceBlockingStub stub, long tableId, String key,
                                       String value) {
        return stub.withDeadlineAfter(5, TimeUnit.SECONDS).write(WriteRequest.newBuilder().setTableId(tableId)
                .setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value)).build());
    }

    private static String ownerOf(List<Tablet> tablets, String key) {
        long hash = KeyHash.hash(key.getBytes(StandardCharsets.UTF_8));
        for (Tablet t : tablets) {
            if (Long.compareUnsigned(hash, t.getStartHash()) >= 0 && Long.compareUnsigned(hash, t.getEndHash()) <= 0) {
                return t.getOwnerAddress();
            }
        }
        throw new IllegalStateException("no tablet holds " + key);
    }

    /** The process name ({@code server-N}) of the server that announced {@code address}. */
    private static String serverName(LocalCluster cluster, String address) {
        Path data = cluster.serverDataDir(address);
        return data.getFileName().toString();
    }

    private static ServerStatus status(CoordinatorServiceGrpc.CoordinatorServiceBlockingStub coordinator, long id) {
        List<ServerStatus> found = new ArrayList<>();
        for (ServerInfo server : coordinator.withDeadlineAfter(5, TimeUnit.SECONDS)
                .listServers(ListServersRequest.getDefaultInstance()).getServersList()) {
            if (server.getServerId() == id) {
                found.add(server.getStatus());
            }
        }
        return found.isEmpty() ? ServerStatus.REMOVED : found.getFirst();
    }
}
