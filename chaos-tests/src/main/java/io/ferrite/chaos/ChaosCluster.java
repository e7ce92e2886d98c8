package io.ferrite.chaos;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.lifecycle.Startables;
import org.testcontainers.utility.DockerImageName;

/**
 * A Ferrite cluster in containers of the image {@code deploy/} builds: each container on the
 * host's network, bound to its own 127.0.0.x address, running as its own uid (see
 * {@link Partitions}). Containers are started with Testcontainers and removed by {@link #close()}
 * (Ryuk is off: no image of it can be pulled here); containers a dead earlier run left behind are
 * found by label and removed at start.
 *
 * <p>Faults act on the containers directly: {@code kill -9} ({@link #kill}), SIGSTOP/SIGCONT
 * ({@link #pause}, {@link #resume}), and a restart of a killed container on its own file system
 * ({@link #restart}), which is a restart of the process on the same disk.
 */
public final class ChaosCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChaosCluster.class);
    /** Label of every container a chaos run starts. */
    static final String LABEL = "io.ferrite.chaos";
    private static final Pattern READY = Pattern.compile("^READY \\S+ ", Pattern.MULTILINE);
    private static final Duration START_TIMEOUT = Duration.ofMinutes(3);
    /** Where the server whose disk can fill keeps its replicas: a size-limited tmpfs. */
    static final String SMALL_DISK_DIR = "/data/backup-disk";

    private final Topology topology;
    private final ChaosSettings settings;
    private final Map<Node, GenericContainer<?>> containers = new LinkedHashMap<>();
    private final DockerClient docker;
    /**
     * The host directory the last server keeps its replicas in: a size-limited tmpfs mounted on
     * the host and bound into the container, so it outlives the container's restarts as a disk
     * outlives a killed process (Docker's own tmpfs mounts come back empty after a restart, and
     * Docker 20.10 remounts them without their mode, so the server could not write there).
     */
    private final java.nio.file.Path smallDisk = java.nio.file.Path.of("/tmp/ferrite-chaos/small-disk");

    private final Thread shutdownHook = new Thread(this::close, "chaos-cluster-cleanup");

    private ChaosCluster(Topology topology, ChaosSettings settings) {
        this.topology = topology;
        this.settings = settings;
        this.docker = DockerClientFactory.instance().client();
        Runtime.getRuntime().addShutdownHook(shutdownHook); // containers go even if the JVM is told to exit
    }

    /**
     * Starts every container (ZooKeeper members together, then coordinators, then servers) and
     * waits until each printed READY.
     */
    public static ChaosCluster start(Topology topology, ChaosSettings settings) {
        ChaosCluster cluster = new ChaosCluster(topology, settings);
        try {
            cluster.removeLeftovers();
            cluster.mountSmallDisk();
            for (Node node : topology.all()) {
                cluster.containers.put(node, cluster.container(node));
            }
            cluster.startAll(topology.zookeepers());
            cluster.startAll(topology.coordinators());
            cluster.startAll(topology.servers());
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    private void startAll(List<Node> nodes) {
        long start = System.nanoTime();
        Startables.deepStart(nodes.stream().map(containers::get).collect(Collectors.toList())).join();
        LOG.info("started {} in {} ms", nodes, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    private GenericContainer<?> container(Node node) {
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(settings.image()))
                .withImagePullPolicy(image -> false)
                .withNetworkMode("host")
                .withLabel(LABEL, "true")
                .withEnv("FERRITE_JVM_OPTS", jvmOptions(node))
                .withCreateContainerCmdModifier(cmd -> cmd.withName("ferrite-chaos-" + node.name())
                        .withUser(node.uid() + ":" + node.uid()))
                .withCommand(command(node).toArray(String[]::new))
                .withStartupAttempts(1)
                .waitingFor(Wait.forLogMessage("READY .*\\n", 1).withStartupTimeout(START_TIMEOUT));
        if (node.role() == Node.Role.SERVER) {
            c.withSharedMemorySize(512L << 20); // Aeron's term buffers live in /dev/shm (64 MB by default)
            if (isSmallDisk(node)) {
                c.withFileSystemBind(smallDisk.toString(), SMALL_DISK_DIR, org.testcontainers.containers.BindMode.READ_WRITE);
            }
        }
        return c;
    }

    /** Whether {@code node} keeps its replicas on the size-limited tmpfs (the last server). */
    boolean isSmallDisk(Node node) {
        return node.equals(topology.servers().getLast());
    }

    private String jvmOptions(Node node) {
        // Ten JVMs share two cores: C1 only, one GC thread, small heaps.
        String heap = node.role() == Node.Role.SERVER ? "-Xmx320m" : "-Xmx128m";
        return heap + " -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k";
    }

    private List<String> command(Node node) {
        List<String> args = new ArrayList<>();
        switch (node.role()) {
            case ZOOKEEPER -> {
                args.addAll(List.of("zookeeper", "--listen-host=" + node.host(),
                        "--listen-port=" + Node.ZK_CLIENT_PORT, "--data-dir=/data/zk", "--metrics-port=off",
                        "--tick-time-ms=" + settings.zookeeperTickMs(),
                        "--ensemble-id=" + node.ordinal(), "--ensemble=" + topology.zookeepers().stream()
                                .map(z -> z.ordinal() + "=" + z.host() + ":" + Node.ZK_PEER_PORT + ":"
                                        + Node.ZK_ELECTION_PORT)
                                .collect(Collectors.joining(","))));
            }
            case COORDINATOR -> args.addAll(List.of("coordinator", "--listen-host=" + node.host(),
                    "--listen-port=" + Node.COORDINATOR_PORT, "--zookeeper=" + topology.zookeeperConnect(),
                    "--metrics-port=off"));
            case SERVER -> {
                args.addAll(List.of("server", "--listen-host=" + node.host(), "--listen-port=" + Node.SERVER_PORT,
                        "--zookeeper=" + topology.zookeeperConnect(), "--data-dir=/data/server",
                        "--server-name=" + node.name(), "--replicas=" + settings.replicas(),
                        "--memory=" + settings.serverMemory(), "--segment-size=" + settings.segmentSize(),
                        "--replication-term-length=4m", "--backup-buffers=64", "--metrics-port=off",
                        "--rpc-threads=2"));
                if (isSmallDisk(node)) {
                    args.add("--backup-dir=" + SMALL_DISK_DIR);
                }
            }
        }
        return args;
    }

    private void removeLeftovers() {
        for (var c : docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(LABEL, "true")).exec()) {
            LOG.info("removing container {} left by an earlier run", List.of(c.getNames()));
            docker.removeContainerCmd(c.getId()).withForce(true).exec();
        }
    }

    private void mountSmallDisk() {
        try {
            unmountSmallDisk();
            Files.createDirectories(smallDisk);
            run("mount", "-t", "tmpfs", "-o", "size=" + settings.smallDiskBytes() + ",mode=1777", "ferrite-chaos-disk",
                    smallDisk.toString());
        } catch (IOException e) {
            throw new IllegalStateException("could not mount the small disk at " + smallDisk + ": " + e.getMessage(), e);
        }
    }

    private void unmountSmallDisk() {
        try {
            if (Files.readString(java.nio.file.Path.of("/proc/mounts")).contains(" " + smallDisk + " ")) {
                run("umount", "-l", smallDisk.toString());
            }
        } catch (IOException e) {
            LOG.warn("could not unmount {}: {}", smallDisk, e.getMessage());
        }
    }

    private static void run(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (p.waitFor() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
    }

    public Topology topology() {
        return topology;
    }

    /** {@code kill -9} of the node's process (its container stops, its file system stays). */
    public void kill(Node node) {
        LOG.info("kill -9 {}", node);
        signal(node, "KILL");
    }

    /** SIGSTOP: the process stops running but keeps its sockets and memory. */
    public void pause(Node node) {
        LOG.info("SIGSTOP {}", node);
        signal(node, "STOP");
    }

    /** SIGCONT after {@link #pause}. */
    public void resume(Node node) {
        LOG.info("SIGCONT {}", node);
        signal(node, "CONT");
    }

    private void signal(Node node, String signal) {
        docker.killContainerCmd(id(node)).withSignal(signal).exec();
    }

    /** Whether the node's process is running (a paused one counts as running). */
    public boolean isRunning(Node node) {
        InspectContainerResponse.ContainerState state = docker.inspectContainerCmd(id(node)).exec().getState();
        return Boolean.TRUE.equals(state.getRunning());
    }

    /**
     * Starts a stopped node's container again (same file system, same command: a restarted
     * process) and waits until it prints READY again.
     */
    public void restart(Node node) {
        if (isRunning(node)) {
            return;
        }
        int before = readyCount(node);
        LOG.info("restarting {}", node);
        docker.startContainerCmd(id(node)).exec();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (readyCount(node) <= before) {
            if (!isRunning(node) && readyCount(node) <= before) {
                throw new IllegalStateException(node + " exited during its restart; its log:\n" + tail(node, 40));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(node + " not READY " + START_TIMEOUT.toSeconds()
                        + " s after its restart; its log:\n" + tail(node, 40));
            }
            pollPause();
        }
    }

    private static void pollPause() {
        try {
            Thread.sleep(200); // polling interval while awaiting a condition, not synchronization
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private int readyCount(Node node) {
        Matcher m = READY.matcher(logs(node));
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /** Runs a command in the node's container as its uid; returns its exit code and output. */
    public ExecResult exec(Node node, String... command) throws IOException {
        try {
            var result = containers.get(node).execInContainer(org.testcontainers.containers.ExecConfig.builder()
                    .user(node.uid() + ":" + node.uid()).command(command).build());
            return new ExecResult(result.getExitCode(), result.getStdout() + result.getStderr());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** What {@link #exec} ran into. */
    public record ExecResult(int exitCode, String output) {
    }

    /** The container's whole log (all its runs). */
    public String logs(Node node) {
        return containers.get(node).getLogs();
    }

    private String tail(Node node, int lines) {
        List<String> all = logs(node).lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** Writes every container's log to {@code dir/<name>.log}. */
    public void saveLogs(Path dir) {
        try {
            Files.createDirectories(dir);
            for (Node node : containers.keySet()) {
                try {
                    Files.writeString(dir.resolve(node.name() + ".log"), logs(node), StandardCharsets.UTF_8);
                } catch (RuntimeException e) {
                    LOG.warn("could not keep the log of {}: {}", node, e.toString());
                }
            }
        } catch (IOException e) {
            LOG.warn("could not keep the logs in {}: {}", dir, e.toString());
        }
    }

    private String id(Node node) {
        return containers.get(node).getContainerId();
    }

    /** Removes every container (killed, paused or running) and unmounts the small disk; idempotent. */
    @Override
    public synchronized void close() {
        for (var e : containers.entrySet()) {
            String id = e.getValue().getContainerId();
            if (id == null) {
                continue;
            }
            try {
                docker.removeContainerCmd(id).withForce(true).exec();
            } catch (RuntimeException ex) {
                LOG.warn("could not remove the container of {}: {}", e.getKey(), ex.toString());
            }
        }
        containers.clear();
        unmountSmallDisk();
    }
}
