package io.ferrite.server.local;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.concurrent.CompletableFuture;

/**
 * A {@code ferrite local}-style cluster started from code (the benchmarks use it): the same
 * {@link LocalSupervisor} as {@code ./ferrite local} (ZooKeeper, a coordinator and N servers as
 * separate processes of the running program, each tied to this process with
 * {@code --exit-with-parent}), without the command's console and signal handling.
 */
public final class LocalCluster {
    private final LocalSupervisor supervisor;
    private final CompletableFuture<Void> abort = new CompletableFuture<>();
    private boolean stopped;

    private LocalCluster(LocalContext context, PrintStream progress) {
        this.supervisor = new LocalSupervisor(context, progress, abort);
    }

    /**
     * Starts the cluster and returns once every server is UP; on failure nothing is left running.
     *
     * @param context  the concluded configuration (its data directory is created if missing)
     * @param progress where progress lines go
     * @return the serving cluster
     * @throws StartFailure         naming the process that failed, with its log's last lines
     * @throws IOException          if the data directory cannot be prepared
     * @throws InterruptedException if interrupted
     */
    public static LocalCluster start(LocalContext context, PrintStream progress)
            throws StartFailure, IOException, InterruptedException {
        Files.createDirectories(context.logsDir());
        LocalCluster cluster = new LocalCluster(context, progress);
        cluster.supervisor.start();
        ClusterAddressFile.write(context.clusterAddressFile(), cluster.supervisor.clusterAddress());
        return cluster;
    }

    /**
     * The server processes by the address each announced (host:port of its data service), to
     * inspect or kill them (fault-injection tests and benchmarks).
     */
    public java.util.Map<String, ProcessHandle> serverProcesses() {
        java.util.Map<String, ProcessHandle> out = new java.util.LinkedHashMap<>();
        for (LocalSupervisor.Member member : supervisor.members()) {
            if (member.child().name().startsWith("server-")) {
                out.put(member.ready().address(), member.child().process().toHandle());
            }
        }
        return out;
    }

    /**
     * Starts again a server process that exited or was killed, with the same command line and
     * directories (its replicas reload from them), and returns once it is UP.
     *
     * @param address the address the server announced
     * @return the address the new process announced
     * @throws IllegalStateException if that server still runs
     * @throws StartFailure          if it does not come up in time
     */
    public String restartServer(String address) throws StartFailure, InterruptedException {
        return supervisor.restartServer(address);
    }

    /**
     * The servers' metrics endpoints ({@code host:port} of the Prometheus text), by the address
     * each server announced; servers started without one are absent.
     */
    public java.util.Map<String, String> serverMetricsAddresses() {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        for (LocalSupervisor.Member member : supervisor.members()) {
            if (member.child().name().startsWith("server-") && member.ready().metricsAddress() != null) {
                out.put(member.ready().address(), member.ready().metricsAddress());
            }
        }
        return out;
    }

    /** Every process of the cluster (ZooKeeper, coordinators, servers), e.g. to pin them to CPUs. */
    public java.util.List<ProcessHandle> processes() {
        return supervisor.members().stream().map(m -> m.child().process().toHandle()).toList();
    }

    /** The coordinator processes by address (kill the leader in fault-injection tests). */
    public java.util.Map<String, ProcessHandle> coordinatorProcesses() {
        return supervisor.coordinatorProcesses();
    }

    /** The ZooKeeper process, to stop and continue it with signals (fault-injection tests). */
    public ProcessHandle zooKeeperProcess() {
        return supervisor.zooKeeperProcess();
    }

    /**
     * Kills ZooKeeper with SIGKILL and starts it again on its data directory and port; returns
     * once it is READY (the servers and the coordinator reconnect on their own).
     */
    public void restartZooKeeperAfterKill9() throws StartFailure, InterruptedException {
        supervisor.restartZooKeeperAfterKill9();
    }

    /** The data directory of the server that announced {@code address} (its replicas are under it). */
    public java.nio.file.Path serverDataDir(String address) {
        return supervisor.serverDataDir(address);
    }

    /** The coordinators' {@code host:port} list that clients connect to. */
    public String address() {
        return supervisor.clusterAddress();
    }

    /**
     * Stops every process (SIGTERM, then kill after the stop timeout). Idempotent.
     *
     * @return 0 if every process exited with status 0, else 1
     * @throws InterruptedException if interrupted (the remaining processes are killed first)
     */
    public synchronized int stop() throws InterruptedException {
        if (stopped) {
            return 0;
        }
        stopped = true;
        abort.complete(null);
        return supervisor.stop();
    }
}
