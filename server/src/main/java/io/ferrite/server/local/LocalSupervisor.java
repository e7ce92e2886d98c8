package io.ferrite.server.local;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.ClusterStatus;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.FerriteException;
import io.ferrite.client.ServerInfo;
import io.ferrite.server.ServerMain;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a whole cluster on this machine as separate processes of this same program: an
 * embedded ZooKeeper, one coordinator (or several: one leads) and N servers, each on 127.0.0.1 and a free port, each
 * with its stderr in {@code DATA_DIR/logs/<name>.log} and {@code --exit-with-parent} set to
 * this process, so none outlives it.
 *
 * <p>{@link #start()} launches ZooKeeper, waits for its READY line, launches the coordinator and
 * the servers together, waits for each READY line, then asks the coordinator until it lists
 * every server UP and has a leader. {@link #stop()} sends SIGTERM to the servers, then the
 * coordinator, then ZooKeeper (each group waited for, and killed after the stop timeout).
 */
final class LocalSupervisor {
    private static final java.util.concurrent.atomic.AtomicInteger DRIVERS = new java.util.concurrent.atomic.AtomicInteger();
    /** How often the coordinator is asked whether every server is UP while starting. */
    static final long UP_POLL_INTERVAL_MS = 50;
    /** Deadline of each question to the coordinator while starting. */
    static final Duration UP_CALL_TIMEOUT = Duration.ofSeconds(2);

    /** A started process and what its READY line announced. */
    record Member(ChildProcess child, ChildProcess.Ready ready) {
    }

    private final LocalContext context;
    private final PrintStream progress;
    private final CompletableFuture<?> abort;
    private final List<Member> members = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<ChildProcess> children = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final CompletableFuture<String> criticalExit = new CompletableFuture<>();
    private ChildProcess zookeeper;
    /** The coordinator processes: the first to be elected leads, the others stand by. */
    private final List<ChildProcess> coordinators = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** One Aeron media driver, in this process, shared by every server (one per machine, as Aeron advises). */
    private io.aeron.driver.MediaDriver aeronDriver;
    private final List<ChildProcess> servers = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Each server's role arguments, by process name, to start it again the same way. */
    private final java.util.Map<String, List<String>> serverArgs = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean stopping;
    /** Children stopped on purpose (a ZooKeeper kill for a fault test): their exit is not a failure. */
    private final java.util.Set<ChildProcess> expectedExits = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Creates the supervisor; nothing runs until {@link #start()}.
     *
     * @param context  the concluded configuration
     * @param progress where progress and warnings go (stderr)
     * @param abort    completes when the supervisor is asked to stop, ending waits early
     */
    LocalSupervisor(LocalContext context, PrintStream progress, CompletableFuture<?> abort) {
        this.context = context;
        this.progress = progress;
        this.abort = abort;
    }

    /**
     * Starts every process and returns once the cluster serves. On failure, stops what it
     * started and throws.
     *
     * @throws StartFailure         naming the process that failed, with its log's last lines
     * @throws InterruptedException if interrupted
     */
    void start() throws StartFailure, InterruptedException {
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(context.startTimeoutMs());
        boolean started = false;
        try {
            long t0 = System.nanoTime();
            zookeeper = launch("zookeeper", List.of("zookeeper", "--data-dir", context.zookeeperDir().toString(),
                    "--listen-host", LocalContext.LISTEN_HOST, "--listen-port", "0"));
            String zkAddress = awaitReady(zookeeper, deadlineNs, t0).address();

            Path aeronDir = Path.of(java.nio.file.Files.isDirectory(Path.of("/dev/shm")) ? "/dev/shm"
                    : System.getProperty("java.io.tmpdir"), "ferrite-aeron-local-" + ProcessHandle.current().pid()
                    + "-" + DRIVERS.incrementAndGet());
            // Without replication nobody needs backups or a media driver (their idle threads would
            // only take CPU from the serving path).
            boolean replicated = context.replicas() > 0;
            if (replicated) {
                aeronDriver = io.ferrite.server.replication.AeronTransport.launchDriver(aeronDir);
            }

            t0 = System.nanoTime();
            for (int i = 0; i < context.coordinators(); i++) {
                coordinators.add(launch(context.coordinators() == 1 ? "coordinator" : "coordinator-" + i,
                        List.of("coordinator", "--cluster", LocalContext.CLUSTER_NAME, "--zookeeper", zkAddress,
                                "--listen-host", LocalContext.LISTEN_HOST, "--listen-port", "0")));
            }
            for (int i = 0; i < context.servers(); i++) {
                List<String> args = new ArrayList<>(List.of("server", "--cluster", LocalContext.CLUSTER_NAME,
                        "--zookeeper", zkAddress, "--listen-host", LocalContext.LISTEN_HOST, "--listen-port", "0",
                        "--memory", context.memory(), "--data-dir", context.serverDir(i).toString(),
                        "--replicas", Integer.toString(context.replicas())));
                args.addAll(replicated ? List.of("--aeron-driver", "external", "--aeron-dir", aeronDir.toString())
                        : List.of("--backup", "off"));
                args.addAll(context.serverFlags());
                serverArgs.put("server-" + i, List.copyOf(args));
                servers.add(launch("server-" + i, args));
            }
            for (ChildProcess coordinator : coordinators) {
                awaitReady(coordinator, deadlineNs, t0);
            }
            Set<String> serverAddresses = new HashSet<>();
            for (ChildProcess server : servers) {
                serverAddresses.add(awaitReady(server, deadlineNs, t0).address());
            }
            awaitServersUp(serverAddresses, children, deadlineNs);
            for (ChildProcess child : children) {
                child.process().onExit().thenRun(() -> exited(child));
            }
            started = true;
        } finally {
            if (!started) {
                stop();
            }
        }
    }

    private ChildProcess launch(String name, List<String> roleArgs) throws StartFailure {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // A debugger agent would fight over its port; everything else (flags, heap) carries over.
            if (!argument.startsWith("-agentlib:jdwp") && !argument.startsWith("-Xrunjdwp")) {
                command.add(argument);
            }
        }
        if (!roleArgs.getFirst().equals("server")) {
            // ZooKeeper and the coordinators are control paths: the quick compiler is enough, and
            // its compilations take far less CPU from the servers sharing the cores (measured: the
            // coordinator's optimizing compiles took ~3 s of CPU during a first recovery).
            command.add("-XX:TieredStopAtLevel=1");
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(ServerMain.class.getName());
        command.addAll(roleArgs);
        command.add("--exit-with-parent");
        command.add(Long.toString(ProcessHandle.current().pid()));
        ChildProcess child = ChildProcess.start(name, command, context.logFile(name), progress);
        children.add(child);
        return child;
    }

    private ChildProcess.Ready awaitReady(ChildProcess child, long deadlineNs, long startNs)
            throws StartFailure, InterruptedException {
        ChildProcess.Ready ready = child.awaitReady(deadlineNs, abort);
        members.add(new Member(child, ready));
        progress.printf("ferrite local: %-12s ready at %s (%.1f s, pid %d)%n", child.name(), ready.address(),
                (System.nanoTime() - startNs) / 1e9, child.process().pid());
        return ready;
    }

    /** Asks the coordinator until it has a leader and lists these servers UP; fails fast if a watched process died. */
    private void awaitServersUp(Set<String> serverAddresses, List<ChildProcess> watched, long deadlineNs)
            throws StartFailure, InterruptedException {
        String address = clusterAddress();
        String seen = "no answer yet";
        ClientOptions options = ClientOptions.builder().timeout(UP_CALL_TIMEOUT).build();
        try (FerriteClient client = Ferrite.connect(address, options)) {
            while (true) {
                for (ChildProcess child : watched) {
                    if (!child.process().isAlive()) {
                        throw new StartFailure(child.name() + " exited with status " + child.process().exitValue()
                                + " while the cluster was starting" + child.logTail());
                    }
                }
                try {
                    List<ServerInfo> listed = client.servers();
                    long up = listed.stream()
                            .filter(s -> s.status().equals("UP") && serverAddresses.contains(s.address())).count();
                    ClusterStatus status = client.clusterStatus();
                    if (up == serverAddresses.size() && !status.leader().isEmpty()) {
                        return;
                    }
                    seen = up + " of " + serverAddresses.size() + " servers UP, leader '" + status.leader() + "'";
                } catch (FerriteException e) {
                    seen = e.getMessage();
                }
                long leftNs = deadlineNs - System.nanoTime();
                if (leftNs <= 0) {
                    throw new StartFailure("the coordinator did not list every server UP in time (last: " + seen + ")"
                            + coordinators.getFirst().logTail());
                }
                try {
                    abort.get(Math.min(leftNs, TimeUnit.MILLISECONDS.toNanos(UP_POLL_INTERVAL_MS)),
                            TimeUnit.NANOSECONDS);
                    throw new StartFailure("asked to stop while waiting for the servers to be UP");
                } catch (TimeoutException e) {
                    // Not asked to stop: ask the coordinator again.
                } catch (ExecutionException e) {
                    throw new StartFailure("asked to stop while waiting for the servers to be UP");
                }
            }
        }
    }

    private void exited(ChildProcess child) {
        if (stopping || expectedExits.contains(child)) {
            return;
        }
        int status = child.process().exitValue();
        boolean critical = child == zookeeper
                || (coordinators.contains(child) && coordinators.stream().noneMatch(c -> c.process().isAlive()));
        String message = child.name() + " exited unexpectedly with status " + status + child.logTail();
        progress.println("ferrite local: " + message);
        if (critical) {
            progress.println("ferrite local: the cluster cannot serve without its "
                    + (child == zookeeper ? child.name() : "coordinators") + "; stopping");
            criticalExit.complete(message);
        } else if (coordinators.contains(child)) {
            progress.println("ferrite local: the cluster goes on without " + child.name()
                    + "; another coordinator leads (or is elected within the ZooKeeper session timeout)");
        } else {
            progress.println("ferrite local: the cluster goes on without " + child.name()
                    + "; with replicas > 0 the coordinator recovers the tablets it owned onto the other masters from"
                    + " its log on the backups (see ./ferrite cli status), and the other masters re-replicate what it"
                    + " backed up; with replicas 0 its tablets' data is lost");
        }
    }

    /**
     * Starts again a server process that exited or was killed, with the same command line (so
     * the same data, replica and log directories), and returns once the coordinator lists it UP.
     *
     * @param address the address the server announced
     * @return the address the new process announced (a new port)
     * @throws IllegalArgumentException if no server announced that address
     * @throws IllegalStateException    if that server still runs
     * @throws StartFailure             if it does not come up within the start timeout
     */
    String restartServer(String address) throws StartFailure, InterruptedException {
        Member old = members.stream()
                .filter(m -> m.ready().address().equals(address) && servers.contains(m.child()))
                .findFirst().orElseThrow(() -> new IllegalArgumentException("no server announced " + address));
        if (old.child().process().isAlive()) {
            throw new IllegalStateException(old.child().name() + " at " + address + " still runs");
        }
        long t0 = System.nanoTime();
        long deadlineNs = t0 + TimeUnit.MILLISECONDS.toNanos(context.startTimeoutMs());
        ChildProcess child = launch(old.child().name(), serverArgs.get(old.child().name()));
        servers.set(servers.indexOf(old.child()), child);
        members.remove(old);
        children.remove(old.child()); // its exit is known, not a failure of this start
        String restarted = awaitReady(child, deadlineNs, t0).address();
        awaitServersUp(Set.of(restarted), List.of(child), deadlineNs);
        child.process().onExit().thenRun(() -> exited(child));
        return restarted;
    }

    /** The ZooKeeper process (fault-injection tests stop and continue it with signals). */
    ProcessHandle zooKeeperProcess() {
        return zookeeper.process().toHandle();
    }

    /**
     * Kills ZooKeeper with SIGKILL and starts it again on the same data directory and client
     * port, so every process finds it where it was; returns once it announced READY.
     *
     * @throws StartFailure if it does not come up within the start timeout
     */
    void restartZooKeeperAfterKill9() throws StartFailure, InterruptedException {
        ChildProcess old = zookeeper;
        Member member = members.stream().filter(m -> m.child() == old).findFirst().orElseThrow();
        String address = member.ready().address();
        String port = address.substring(address.lastIndexOf(':') + 1);
        expectedExits.add(old);
        old.process().destroyForcibly();
        try {
            old.process().onExit().get(context.startTimeoutMs(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new StartFailure("ZooKeeper did not die after SIGKILL: " + e);
        }
        members.remove(member);
        children.remove(old);
        long t0 = System.nanoTime();
        long deadlineNs = t0 + TimeUnit.MILLISECONDS.toNanos(context.startTimeoutMs());
        zookeeper = launch("zookeeper", List.of("zookeeper", "--data-dir", context.zookeeperDir().toString(),
                "--listen-host", LocalContext.LISTEN_HOST, "--listen-port", port));
        awaitReady(zookeeper, deadlineNs, t0);
        ChildProcess restarted = zookeeper;
        restarted.process().onExit().thenRun(() -> exited(restarted));
    }

    /** The data directory of the server that announced {@code address}. */
    Path serverDataDir(String address) {
        for (Member m : members) {
            if (m.ready().address().equals(address) && servers.contains(m.child())) {
                return context.serverDir(Integer.parseInt(m.child().name().substring("server-".length())));
            }
        }
        throw new IllegalArgumentException("no server announced " + address);
    }

    /** Completes (with a message) if ZooKeeper or the coordinator exits while the cluster serves. */
    CompletableFuture<String> criticalExit() {
        return criticalExit;
    }

    /** The coordinators' {@code host:port} list that clients connect to. */
    String clusterAddress() {
        List<String> addresses = new ArrayList<>();
        for (Member member : members) {
            if (coordinators.contains(member.child())) {
                addresses.add(member.ready().address());
            }
        }
        if (addresses.isEmpty()) {
            throw new IllegalStateException("the coordinator is not ready");
        }
        return String.join(",", addresses);
    }

    /** The coordinator processes by the address each announced. */
    java.util.Map<String, ProcessHandle> coordinatorProcesses() {
        java.util.Map<String, ProcessHandle> out = new java.util.LinkedHashMap<>();
        for (Member member : members) {
            if (coordinators.contains(member.child())) {
                out.put(member.ready().address(), member.child().process().toHandle());
            }
        }
        return out;
    }

    /** The processes that announced READY, in start order. */
    List<Member> members() {
        return List.copyOf(members);
    }

    /**
     * Stops every process: SIGTERM to the servers, then the coordinator, then ZooKeeper, each
     * group waited for up to the stop timeout and then killed. Idempotent.
     *
     * @return 0 if every process exited with status 0, else 1
     * @throws InterruptedException if interrupted (the remaining processes are killed first)
     */
    int stop() throws InterruptedException {
        stopping = true;
        try {
            boolean clean = stopGroup(servers);
            clean &= stopGroup(coordinators);
            clean &= stopGroup(zookeeper == null ? List.of() : List.of(zookeeper));
            closeDriver();
            return clean ? 0 : 1;
        } catch (InterruptedException e) {
            for (ChildProcess child : children) {
                child.process().destroyForcibly();
            }
            closeDriver();
            throw e;
        }
    }

    private synchronized void closeDriver() {
        if (aeronDriver != null) {
            aeronDriver.close(); // deletes its directory
            aeronDriver = null;
        }
    }

    private boolean stopGroup(List<ChildProcess> group) throws InterruptedException {
        boolean clean = true;
        for (ChildProcess child : group) {
            child.terminate();
        }
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(context.stopTimeoutMs());
        for (ChildProcess child : group) {
            int status = child.awaitExitOrKill(deadlineNs);
            if (status < 0) {
                progress.println("ferrite local: " + child.name() + " did not stop within " + context.stopTimeoutMs()
                        + " ms of SIGTERM: killed");
                clean = false;
            } else if (status != 0) {
                progress.println("ferrite local: " + child.name() + " exited with status " + status
                        + " (see " + child.log() + ")");
                clean = false;
            }
        }
        return clean;
    }
}
