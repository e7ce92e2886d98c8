package io.ferrite.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.ListServersRequest;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The roles as the launcher runs them: separate JVMs of {@link ServerMain} that print one
 * READY line on stdout when serving and exit 0 after SIGTERM; bad settings exit 2 naming the
 * setting.
 */
class ProcessRolesTest {
    private static final Duration READY_WAIT = Duration.ofSeconds(60);
    private final List<Process> processes = new ArrayList<>();

    @TempDir
    Path dir;

    /** One role's process with its stdout lines queued. */
    private record Role(Process process, BlockingQueue<String> stdout, Path stderr) {
        String awaitReady() throws InterruptedException {
            long deadline = System.nanoTime() + READY_WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                String line = stdout.poll(200, TimeUnit.MILLISECONDS);
                if (line != null) {
                    return line;
                }
                if (!process.isAlive()) {
                    throw new AssertionError("exited with " + process.exitValue() + ": " + readQuietly(stderr));
                }
            }
            throw new AssertionError("no READY line within " + READY_WAIT + ": " + readQuietly(stderr));
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return e.toString();
        }
    }

    private Role launch(String name, String... args) throws IOException {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath,
                ServerMain.class.getName()));
        command.addAll(List.of(args));
        Path stderr = dir.resolve(name + ".err");
        Process process = new ProcessBuilder(command).redirectError(stderr.toFile()).start();
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
        return new Role(process, lines, stderr);
    }

    @AfterEach
    void killLeftovers() {
        for (Process process : processes) {
            process.destroyForcibly();
        }
    }

    private static int terminate(Role role) throws InterruptedException {
        role.process().destroy();
        assertThat(role.process().waitFor(30, TimeUnit.SECONDS)).as("exits after SIGTERM").isTrue();
        return role.process().exitValue();
    }

    @Test
    void zookeeperCoordinatorAndServerAnnounceReadyAndStopCleanly() throws Exception {
        Role zookeeper = launch("zookeeper", "zookeeper", "--data-dir", dir.resolve("zk").toString(),
                "--listen-port", "0");
        String zkReady = zookeeper.awaitReady();
        assertThat(zkReady).matches("READY zookeeper 127\\.0\\.0\\.1:\\d+ metrics=127\\.0\\.0\\.1:\\d+");
        String zkAddress = zkReady.split(" ")[2];

        Role coordinator = launch("coordinator", "coordinator", "--zookeeper", zkAddress, "--cluster", "proc",
                "--listen-port", "0", "--metrics-port", "off");
        String coordinatorReady = coordinator.awaitReady();
        assertThat(coordinatorReady).matches("READY coordinator 127\\.0\\.0\\.1:\\d+");
        String coordinatorAddress = coordinatorReady.split(" ")[2];

        Role server = launch("server", "server", "--zookeeper", zkAddress, "--cluster", "proc", "--listen-port", "0",
                "--memory", "32m", "--segment-size", "2m");
        String serverReady = server.awaitReady();
        assertThat(serverReady).matches("READY server 127\\.0\\.0\\.1:\\d+ metrics=127\\.0\\.0\\.1:\\d+");
        String serverAddress = serverReady.split(" ")[2];

        ManagedChannel channel = NettyChannelBuilder.forTarget(coordinatorAddress).usePlaintext().build();
        try {
            CoordinatorServiceGrpc.CoordinatorServiceBlockingStub stub = CoordinatorServiceGrpc.newBlockingStub(channel);
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> stub
                    .withDeadlineAfter(5, TimeUnit.SECONDS).listServers(ListServersRequest.getDefaultInstance())
                    .getServersList().stream().anyMatch(s -> s.getAddress().equals(serverAddress)
                            && s.getStatus() == ServerStatus.UP));
            assertThat(terminate(server)).isZero();
            // The stopped server's session ended: the coordinator declares it crashed (then REMOVED
            // once its recovery is decided, at once here: it owned nothing).
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> stub
                    .withDeadlineAfter(5, TimeUnit.SECONDS).listServers(ListServersRequest.getDefaultInstance())
                    .getServersList().stream().filter(s -> s.getAddress().equals(serverAddress))
                    .map(ServerInfo::getStatus).allMatch(st -> st != ServerStatus.UP));
        } finally {
            channel.shutdownNow();
        }
        assertThat(terminate(coordinator)).isZero();
        assertThat(terminate(zookeeper)).isZero();
        assertThat(server.stdout()).isEmpty();
        assertThat(readQuietly(server.stderr())).contains("stopped");
    }

    @Test
    void badSettingExitsWithStatusTwoNamingIt() throws Exception {
        Role server = launch("bad-server", "server", "--memory", "12q");
        assertThat(server.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(server.process().exitValue()).isEqualTo(2);
        assertThat(readQuietly(server.stderr())).contains("ferrite server: memory: '12q' (flag --memory) is not a size");
        assertThat(server.stdout()).isEmpty();
    }
}
