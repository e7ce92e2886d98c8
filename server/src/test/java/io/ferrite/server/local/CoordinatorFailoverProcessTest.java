package io.ferrite.server.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.proto.v1.ClusterStatusRequest;
import io.ferrite.proto.v1.ClusterStatusResponse;
import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.ListServersRequest;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.server.ServerMain;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a coordinator leader failover costs the data path, measured with real processes:
 * ZooKeeper, three coordinators (a leader and two standbys, default settings: 4 s session, 600 ms
 * leases) and three servers (no replication, so only leases matter). A client that knows every
 * coordinator writes one key after another while (1) the leader is killed with {@code kill -9}
 * (its latch node lives until its session expires, then a standby is elected, bumps the epoch and
 * acknowledges heartbeats) and (2) the new leader is stopped with SIGTERM (it closes its latch at
 * once and the last standby takes over). Servers' leases lapse while no leader acknowledges them, so writes get RETRY and the
 * client retries: the longest single write is the unavailability window. No server is declared
 * CRASHED by either failover, and every write succeeds. Tagged long: it is a measurement.
 */
@Tag("long")
class CoordinatorFailoverProcessTest {
    private static final Duration READY_WAIT = Duration.ofSeconds(120);

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();

    /** One role's process with its stdout lines queued. */
    private record Role(Process process, BlockingQueue<String> stdout) {
        String awaitReadyAddress() throws InterruptedException {
            long deadline = System.nanoTime() + READY_WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                String line = stdout.poll(200, TimeUnit.MILLISECONDS);
                if (line != null && line.startsWith("READY ")) {
                    return line.split(" ")[2];
                }
                if (!process.isAlive()) {
                    throw new AssertionError("exited with " + process.exitValue());
                }
            }
            throw new AssertionError("no READY line within " + READY_WAIT);
        }
    }

    private Role launch(String name, String... args) throws IOException {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-Xmx256m", "-XX:+UseSerialGC", "-cp", classpath, ServerMain.class.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectError(dir.resolve(name + ".log").toFile()).start();
        processes.add(process);
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread.ofPlatform().daemon().name("stdout-" + name).start(() -> {
            try (BufferedReader reader = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("stdout failed: " + e);
            }
        });
        return new Role(process, lines);
    }

    @AfterEach
    void killLeftovers() {
        for (Process process : processes) {
            process.destroyForcibly();
        }
    }

    @Test
    void aLeaderFailoverCostsAShortRetryWindowAndDeclaresNobody() throws Exception {
        String zk = launch("zookeeper", "zookeeper", "--data-dir", dir.resolve("zk").toString(), "--listen-port", "0",
                "--metrics-port", "off").awaitReadyAddress();
        Role first = launch("coordinator-1", "coordinator", "--zookeeper", zk, "--cluster", "fo", "--listen-port", "0",
                "--metrics-port", "off");
        String firstAddress = first.awaitReadyAddress();
        Role second = launch("coordinator-2", "coordinator", "--zookeeper", zk, "--cluster", "fo", "--listen-port", "0",
                "--metrics-port", "off");
        String secondAddress = second.awaitReadyAddress();
        Role third = launch("coordinator-3", "coordinator", "--zookeeper", zk, "--cluster", "fo", "--listen-port", "0",
                "--metrics-port", "off");
        String thirdAddress = third.awaitReadyAddress();
        List<Role> coordinators = List.of(first, second, third);
        List<String> addresses = List.of(firstAddress, secondAddress, thirdAddress);
        List<Role> servers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            servers.add(launch("server-" + i, "server", "--zookeeper", zk, "--cluster", "fo", "--listen-port", "0",
                    "--metrics-port", "off", "--memory", "32m", "--segment-size", "2m", "--backup", "off",
                    "--replicas", "0"));
        }
        for (Role server : servers) {
            server.awaitReadyAddress();
        }
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong slowestNs = new AtomicLong();
        AtomicLong writes = new AtomicLong();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (FerriteClient client = Ferrite.connect(String.join(",", addresses),
                ClientOptions.builder().timeout(Duration.ofSeconds(60)).build())) {
            client.createTable("fo", 3);
            Table table = client.table("fo");
            Thread writer = Thread.ofPlatform().name("failover-writer").start(() -> {
                for (long i = 0; writing.get(); i++) {
                    long t0 = System.nanoTime();
                    try {
                        table.write("k" + (i % 300), "v" + i);
                    } catch (RuntimeException e) {
                        failures.add(e);
                        return;
                    }
                    slowestNs.accumulateAndGet(System.nanoTime() - t0, Math::max);
                    writes.incrementAndGet();
                }
            });
            try {
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> writes.get() > 200);
                String leader = status(firstAddress).getLeader();
                int killed = addresses.indexOf(leader);
                String watcher = addresses.get((killed + 1) % 3);

                // (1) kill -9 of the leader: a standby takes over once the old session expires.
                slowestNs.set(0);
                long killedNs = System.nanoTime();
                coordinators.get(killed).process().destroyForcibly();
                Awaitility.await("a standby leads").pollInterval(Duration.ofMillis(20)).atMost(Duration.ofSeconds(60))
                        .until(() -> addresses.indexOf(status(watcher).getLeader()) >= 0
                                && addresses.indexOf(status(watcher).getLeader()) != killed);
                double electedMs = (System.nanoTime() - killedNs) / 1e6;
                long before = writes.get();
                Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> writes.get() > before + 200);
                double windowMs = slowestNs.get() / 1e6;
                System.out.printf("kill -9 of the leader: standby leads after %.0f ms; longest write %.0f ms%n",
                        electedMs, windowMs);

                // (2) SIGTERM of the new leader: it closes its latch, the last standby takes over.
                int current = addresses.indexOf(status(watcher).getLeader());
                int last = 3 - killed - current;
                String lastAddress = addresses.get(last);
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> writes.get() > before + 400);
                slowestNs.set(0);
                long stoppedNs = System.nanoTime();
                coordinators.get(current).process().destroy();
                Awaitility.await("the last standby leads").pollInterval(Duration.ofMillis(20))
                        .atMost(Duration.ofSeconds(60)).until(() -> status(lastAddress).getLeader().equals(lastAddress));
                double handedMs = (System.nanoTime() - stoppedNs) / 1e6;
                long before2 = writes.get();
                Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> writes.get() > before2 + 200);
                System.out.printf("SIGTERM of the leader: standby leads after %.0f ms; longest write %.0f ms%n",
                        handedMs, slowestNs.get() / 1e6);

                // Nobody was declared CRASHED by either failover.
                assertThat(servers(lastAddress)).extracting(ServerInfo::getStatus).containsOnly(ServerStatus.UP);
            } finally {
                writing.set(false);
                writer.join(TimeUnit.SECONDS.toMillis(60));
            }
        }
        assertThat(failures).as("every write succeeded (RETRY is retried)").isEmpty();
    }

    private static ClusterStatusResponse status(String coordinator) {
        ManagedChannel channel = NettyChannelBuilder.forTarget(coordinator).usePlaintext().build();
        try {
            return CoordinatorServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
                    .clusterStatus(ClusterStatusRequest.getDefaultInstance());
        } finally {
            channel.shutdownNow();
        }
    }

    private static List<ServerInfo> servers(String coordinator) {
        ManagedChannel channel = NettyChannelBuilder.forTarget(coordinator).usePlaintext().build();
        try {
            return CoordinatorServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .listServers(ListServersRequest.getDefaultInstance()).getServersList();
        } finally {
            channel.shutdownNow();
        }
    }
}
