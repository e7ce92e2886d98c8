package io.ferrite.server.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.proto.v1.ClusterStatusRequest;
import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.GetTabletMapRequest;
import io.ferrite.proto.v1.ListReplicasRequest;
import io.ferrite.proto.v1.ListServersRequest;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.Tablet;
import io.ferrite.proto.v1.TabletState;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults during crash recovery, with real processes and {@code kill -9} (issue 10 §4): the
 * recovery master dies mid-replay, the coordinator leader dies mid-recovery (a standby takes
 * over), a backup holding a needed replica dies while another copy exists, and two masters die
 * at once (R=2: a copy of every segment survives, so both are recovered). Each ends with every
 * tablet NORMAL on a live master, every acknowledged write reading back with its latest value
 * and lying in the certified replicas of the new owners' logs.
 */
class RecoveryFaultsProcessTest {
    private static final long SEED = Long.getLong("ferrite.seed", 0xC0A1_0011L);
    private static final int KEYS = 40_000;
    private static final int VALUE_BYTES = 1_000;
    private static final String TABLE = "faults";

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    Path dir;

    /** A running cluster with a loaded table, and what the tests ask of it. */
    private final class Scenario implements AutoCloseable {
        final LocalCluster cluster;
        final ManagedChannel coordinator;
        final ClusterProbe probe = new ClusterProbe();
        final FerriteClient client;
        final Table table;
        final Map<String, String> acknowledged = new ConcurrentHashMap<>();
        final Map<String, ProcessHandle> servers;

        Scenario(int servers, int coordinators, int span) throws Exception {
            LocalContext context = new LocalContext().servers(servers).coordinators(coordinators).replicas(2)
                    .memory("256m").dataDir(dir).startTimeoutMs(180_000)
                    .serverFlags(List.of("--session-timeout-ms", "2000", "--segment-size", "2m")).conclude();
            cluster = LocalCluster.start(context, new PrintStream(OutputStream.nullOutputStream()));
            coordinator = NettyChannelBuilder.forTarget(cluster.address().split(",")[0]).usePlaintext().build();
            client = Ferrite.connect(cluster.address(), ClientOptions.builder().timeout(Duration.ofSeconds(90)).build());
            client.createTable(TABLE, span);
            table = client.table(TABLE);
            this.servers = new HashMap<>(cluster.serverProcesses());
            Random random = new Random(SEED);
            for (int batch = 0; batch < KEYS / 32; batch++) {
                ClusterProbe.Batch.submit(table, random, batch, KEYS, VALUE_BYTES).complete(acknowledged);
            }
        }

        List<Tablet> tablets() {
            return CoordinatorServiceGrpc.newBlockingStub(coordinator).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .getTabletMap(GetTabletMapRequest.newBuilder().setName(TABLE).build()).getTabletsList();
        }

        /** The server owning the most tablets of the table. */
        String busiestMaster() {
            Map<String, Long> count = tablets().stream().collect(Collectors.groupingBy(Tablet::getOwnerAddress,
                    Collectors.counting()));
            return count.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        }

        long idOf(String address) {
            for (ServerInfo s : CoordinatorServiceGrpc.newBlockingStub(coordinator)
                    .listServers(ListServersRequest.getDefaultInstance()).getServersList()) {
                if (s.getAddress().equals(address)) {
                    return s.getServerId();
                }
            }
            throw new IllegalArgumentException(address);
        }

        String addressOf(long id) {
            for (ServerInfo s : CoordinatorServiceGrpc.newBlockingStub(coordinator)
                    .listServers(ListServersRequest.getDefaultInstance()).getServersList()) {
                if (s.getServerId() == id) {
                    return s.getAddress();
                }
            }
            throw new IllegalArgumentException(Long.toHexString(id));
        }

        void kill(String address) throws Exception {
            ProcessHandle process = servers.remove(address);
            assertThat(process.destroyForcibly()).as("SIGKILL to %s", address).isTrue();
            process.onExit().get(30, TimeUnit.SECONDS);
        }

        /** Waits for the first assignment of a partition of {@code crashed}'s tablets; returns the master's id. */
        long awaitRecoveryMaster(long crashed) {
            long[] found = {0};
            Awaitility.await("a partition of the crashed master assigned").atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(2)).until(() -> {
                        for (Tablet t : tablets()) {
                            if (t.getState() == TabletState.RECOVERING && t.getOwnerId() == crashed
                                    && t.getRecoveryMasterId() != 0) {
                                found[0] = t.getRecoveryMasterId();
                                return true;
                            }
                        }
                        assertThat(tablets().stream().anyMatch(t -> t.getOwnerId() == crashed))
                                .as("seed %d: the recovery finished before a partition was seen assigned (too little"
                                        + " data to inject the fault during recovery)", SEED).isTrue();
                        return false;
                    });
            return found[0];
        }

        /** Every tablet NORMAL on a live server (the whole hash space covered); returns the time it took. */
        long awaitRecovered(Set<Long> dead) {
            long t0 = System.nanoTime();
            Awaitility.await("every tablet NORMAL on a live master").atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(50)).until(() -> {
                        List<Tablet> now = tablets();
                        return !now.isEmpty() && now.stream().allMatch(t -> t.getState() == TabletState.NORMAL
                                && !dead.contains(t.getOwnerId()))
                                && CoordinatorServiceGrpc.newBlockingStub(coordinator)
                                        .clusterStatus(ClusterStatusRequest.getDefaultInstance()).getRecoveriesCount() == 0;
                    });
            return (System.nanoTime() - t0) / 1_000_000;
        }

        void assertNothingLost(Set<Long> dead) {
            ClusterProbe.assertReadBack(table, acknowledged, SEED);
            List<String> live = new ArrayList<>(servers.keySet());
            probe.assertAcknowledgedInCertifiedReplicas(probe.owners(cluster.address().split(",")[0], TABLE), live,
                    acknowledged, SEED);
            for (long id : dead) {
                Awaitility.await("replicas of a recovered master freed").atMost(Duration.ofSeconds(30))
                        .untilAsserted(() -> {
                            for (String backup : live) {
                                assertThat(probe.control(backup).listReplicas(ListReplicasRequest.newBuilder()
                                        .setMasterId(id).build()).getReplicasList()).isEmpty();
                            }
                        });
            }
        }

        @Override
        public void close() {
            client.close();
            probe.close();
            coordinator.shutdownNow();
            try {
                cluster.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void theRecoveryMasterDiesDuringReplay() throws Exception {
        // Five servers: after two deaths, a recovery master still has two live backups (R=2).
        try (Scenario s = new Scenario(5, 1, 1)) {
            String victim = s.busiestMaster();
            long victimId = s.idOf(victim);
            s.kill(victim);
            long recoveryMaster = s.awaitRecoveryMaster(victimId);
            s.kill(s.addressOf(recoveryMaster));
            long ms = s.awaitRecovered(Set.of(victimId, recoveryMaster));
            System.out.printf("seed %d: master and then its recovery master killed; recovered %d ms later%n", SEED, ms);
            s.assertNothingLost(Set.of(victimId, recoveryMaster));
        }
    }

    @Test
    void theCoordinatorLeaderDiesDuringRecovery() throws Exception {
        try (Scenario s = new Scenario(4, 2, 1)) {
            String victim = s.busiestMaster();
            long victimId = s.idOf(victim);
            String leader = CoordinatorServiceGrpc.newBlockingStub(s.coordinator)
                    .clusterStatus(ClusterStatusRequest.getDefaultInstance()).getLeader();
            s.kill(victim);
            s.awaitRecoveryMaster(victimId);
            ProcessHandle leaderProcess = s.cluster.coordinatorProcesses().get(leader);
            assertThat(leaderProcess).as("leader %s among %s", leader, s.cluster.coordinatorProcesses().keySet())
                    .isNotNull();
            assertThat(leaderProcess.destroyForcibly()).isTrue();
            leaderProcess.onExit().get(30, TimeUnit.SECONDS);
            // Ask the surviving coordinator from here on.
            String standby = s.cluster.coordinatorProcesses().keySet().stream().filter(a -> !a.equals(leader))
                    .findFirst().orElseThrow();
            {
                ManagedChannel channel = NettyChannelBuilder.forTarget(standby).usePlaintext().build();
                try {
                    long t0 = System.nanoTime();
                    Awaitility.await("recovered under the new leader").atMost(Duration.ofSeconds(120))
                            .pollInterval(Duration.ofMillis(50)).until(() -> {
                                List<Tablet> now = CoordinatorServiceGrpc.newBlockingStub(channel)
                                        .getTabletMap(GetTabletMapRequest.newBuilder().setName(TABLE).build())
                                        .getTabletsList();
                                return !now.isEmpty() && now.stream().allMatch(t -> t.getState() == TabletState.NORMAL
                                        && t.getOwnerId() != victimId);
                            });
                    System.out.printf("seed %d: coordinator leader killed during recovery; recovered %d ms later%n",
                            SEED, (System.nanoTime() - t0) / 1_000_000);
                    ClusterProbe.assertReadBack(s.table, s.acknowledged, SEED);
                    s.probe.assertAcknowledgedInCertifiedReplicas(s.probe.owners(standby, TABLE),
                            new ArrayList<>(s.servers.keySet()), s.acknowledged, SEED);
                } finally {
                    channel.shutdownNow();
                }
            }
        }
    }

    @Test
    void aBackupHoldingANeededReplicaDiesWhileAnotherCopyExists() throws Exception {
        try (Scenario s = new Scenario(5, 1, 1)) {
            String victim = s.busiestMaster();
            long victimId = s.idOf(victim);
            // The backup holding the most replicas of the victim's log.
            String backup = null;
            int most = -1;
            for (String server : s.servers.keySet()) {
                if (!server.equals(victim)) {
                    int held = s.probe.control(server).listReplicas(ListReplicasRequest.newBuilder()
                            .setMasterId(victimId).build()).getReplicasCount();
                    if (held > most) {
                        most = held;
                        backup = server;
                    }
                }
            }
            s.kill(victim);
            s.awaitRecoveryMaster(victimId);
            long backupId = s.idOf(backup);
            s.kill(backup);
            long ms = s.awaitRecovered(Set.of(victimId, backupId));
            System.out.printf("seed %d: master killed, then a backup holding %d of its replicas; recovered %d ms"
                    + " later%n", SEED, most, ms);
            s.assertNothingLost(Set.of(victimId, backupId));
        }
    }

    @Test
    void twoMastersKilledAtOnceAreBothRecovered() throws Exception {
        try (Scenario s = new Scenario(5, 1, 4)) {
            List<String> owners = s.tablets().stream().map(Tablet::getOwnerAddress).distinct().limit(2).toList();
            assertThat(owners).as("two distinct masters own tablets").hasSize(2);
            Set<Long> dead = Set.of(s.idOf(owners.get(0)), s.idOf(owners.get(1)));
            ProcessHandle a = s.servers.remove(owners.get(0));
            ProcessHandle b = s.servers.remove(owners.get(1));
            a.destroyForcibly();
            b.destroyForcibly();
            a.onExit().get(30, TimeUnit.SECONDS);
            b.onExit().get(30, TimeUnit.SECONDS);
            long ms = s.awaitRecovered(dead);
            System.out.printf("seed %d: two masters killed at once (R=2); both recovered in %d ms%n", SEED, ms);
            s.assertNothingLost(dead);
        }
    }
}
