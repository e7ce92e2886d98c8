package io.ferrite.server.local;

import io.ferrite.server.launch.RoleSupport;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ferrite local}: a whole cluster on this machine (see {@link LocalSupervisor}), in the
 * foreground until Ctrl-C or SIGTERM. Prints the cluster address and where the logs are, writes
 * the address to {@code DATA_DIR/cluster-address}, and ends its stdout summary with
 * {@code READY local <address>}. Exit status: 0 after a clean stop, 1 if the cluster could not
 * start or a process failed, 2 for a bad option.
 */
@Command(name = "local", mixinStandardHelpOptions = true,
        description = {"Runs a whole cluster on this machine as separate processes: an embedded ZooKeeper, one"
                + " coordinator and N servers on 127.0.0.1, each on a free port; stops them all on Ctrl-C or SIGTERM.",
                "Prints the cluster address (also written to DATA_DIR/cluster-address, where 'ferrite cli' finds it)"
                        + " and the logs' place (DATA_DIR/logs/<process>.log). State is fresh at every start:"
                        + " servers keep objects in memory only until replication arrives."})
public final class LocalCommand implements Callable<Integer> {
    private static final String ROLE = "local";

    @Option(names = "--servers", paramLabel = "N", description = "Servers to start (default: 3).")
    int servers = LocalContext.DEFAULT_SERVERS;

    @Option(names = "--memory", paramLabel = "SIZE",
            description = "Memory for objects of each server, e.g. 512m, 2g (default: 512m).")
    String memory = LocalContext.DEFAULT_MEMORY;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Logs, ZooKeeper's data and the cluster-address file (default: data/local in the"
                    + " repository, or the working directory without the launcher).")
    Path dataDir;

    @Option(names = "--coordinators", paramLabel = "N",
            description = "Coordinator processes (default: 1); with more, one leads and the others stand by.")
    int coordinators = 1;

    @Option(names = "--replicas", paramLabel = "N",
            description = "Backups each segment is replicated to (default: 2, or servers - 1 if fewer).")
    Integer replicas;

    @Option(names = "--start-timeout-ms", paramLabel = "MS",
            description = "How long the processes may take to be ready (default: 60000).")
    long startTimeoutMs = LocalContext.DEFAULT_START_TIMEOUT_MS;

    @Option(names = "--stop-timeout-ms", paramLabel = "MS",
            description = "How long each group of processes may take to exit after SIGTERM before it is killed"
                    + " (default: 15000).")
    long stopTimeoutMs = LocalContext.DEFAULT_STOP_TIMEOUT_MS;

    @Override
    public Integer call() throws InterruptedException {
        LocalContext context;
        try {
            context = new LocalContext().servers(servers).coordinators(coordinators).memory(memory).dataDir(dataDir).replicas(replicas)
                    .startTimeoutMs(startTimeoutMs).stopTimeoutMs(stopTimeoutMs).conclude();
        } catch (IllegalArgumentException e) {
            RoleSupport.failed(ROLE, e.getMessage());
            return RoleSupport.EXIT_CONFIG;
        }
        PrintStream progress = System.err;
        RoleSupport.Lifecycle lifecycle = new RoleSupport.Lifecycle(ROLE,
                context.startTimeoutMs() + 3 * context.stopTimeoutMs() + 30_000);
        int status = 0;
        try (DataDirLock _ = DataDirLock.acquire(context.lockFile())) {
            prepare(context);
            LocalSupervisor supervisor = new LocalSupervisor(context, progress, lifecycle.stopRequested());
            progress.println("ferrite local: starting ZooKeeper, a coordinator and " + context.servers() + " server"
                    + (context.servers() == 1 ? "" : "s") + " (" + context.memory() + " each); logs in "
                    + display(context.logsDir()));
            supervisor.start();
            supervisor.criticalExit().thenRun(lifecycle::requestStop);
            ClusterAddressFile.write(context.clusterAddressFile(), supervisor.clusterAddress());
            printSummary(System.out, context, supervisor);
            lifecycle.awaitStop();
            progress.println("ferrite local: stopping...");
            Files.deleteIfExists(context.clusterAddressFile());
            status = supervisor.stop();
            if (supervisor.criticalExit().isDone()) {
                status = RoleSupport.EXIT_START;
            }
            progress.println("ferrite local: " + (status == 0 ? "stopped cleanly" : "stopped, with failures (above)"));
        } catch (StartFailure e) {
            RoleSupport.failed(ROLE, e.getMessage());
            status = RoleSupport.EXIT_START;
        } catch (IOException | UncheckedIOException e) {
            RoleSupport.failed(ROLE, e.getMessage());
            status = RoleSupport.EXIT_START;
        } finally {
            lifecycle.stopped(status);
        }
        return status;
    }

    /** Fresh state: ZooKeeper's data and the old address go; the logs directory exists. */
    private static void prepare(LocalContext context) throws IOException {
        Files.deleteIfExists(context.clusterAddressFile());
        deleteTree(context.zookeeperDir());
        Files.createDirectories(context.logsDir());
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    private static void printSummary(PrintStream out, LocalContext context, LocalSupervisor supervisor) {
        String address = supervisor.clusterAddress();
        out.println();
        out.println("Ferrite local cluster '" + LocalContext.CLUSTER_NAME + "' is serving: 1 ZooKeeper, 1 coordinator, "
                + context.servers() + " server" + (context.servers() == 1 ? "" : "s") + " (" + context.memory()
                + " each, " + context.replicas() + " replica" + (context.replicas() == 1 ? "" : "s")
                + " of every segment).");
        out.println();
        out.println("  cluster address  " + address + "   (written to " + display(context.clusterAddressFile()) + ")");
        out.println();
        out.printf("  %-12s %-22s %-22s %-8s %s%n", "process", "address", "metrics", "pid", "log");
        for (LocalSupervisor.Member member : supervisor.members()) {
            String metrics = member.ready().metricsAddress();
            out.printf("  %-12s %-22s %-22s %-8d %s%n", member.child().name(), member.ready().address(),
                    metrics == null ? "-" : metrics,
                    member.child().process().pid(), display(member.child().log()));
        }
        out.println("  (metrics: Prometheus text at http://<metrics>/metrics)");
        out.println();
        String cli = "./ferrite cli" + (context.dataDir().equals(LocalContext.defaultDataDir().toAbsolutePath().normalize())
                ? "" : " --data-dir " + display(context.dataDir()));
        out.println("Try:   " + cli + " create-table demo --span " + context.servers());
        out.println("       " + cli + " put demo hello world && " + cli + " get demo hello");
        out.println("Stop:  Ctrl-C here, or kill " + ProcessHandle.current().pid()
                + " (SIGTERM): every process above stops with it.");
        out.println("READY " + ROLE + " " + address);
        out.flush();
    }

    /** A path relative to the working directory when it lies under it, else absolute. */
    static String display(Path path) {
        Path cwd = Path.of("").toAbsolutePath();
        Path absolute = path.toAbsolutePath().normalize();
        return absolute.startsWith(cwd) && !absolute.equals(cwd) ? cwd.relativize(absolute).toString()
                : absolute.toString();
    }
}
