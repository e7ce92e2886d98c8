package io.ferrite.server.launch;

import io.ferrite.server.FerriteServer;
import io.ferrite.server.ServerContext;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ferrite server}: a server hosting the master service, until SIGTERM or Ctrl-C. */
@Command(name = "server", mixinStandardHelpOptions = true,
        description = {"Runs a server (master and, unless --backup off, backup services) until SIGTERM or Ctrl-C; prints 'READY server <host:port>"
                + " [metrics=<host:port>]' on stdout once registered and serving.",
                "Every setting may also come from the environment (FERRITE_<NAME>, e.g. FERRITE_MEMORY) or a"
                        + " properties file (--config, e.g. memory=512m); flags win over the environment, which"
                        + " wins over the file."})
public final class ServerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ParentWatch parentWatch;

    @Mixin
    RoleOptions role;

    @Mixin
    ZooKeeperClientOptions zooKeeperClient;





    @Option(names = "--listen-port", paramLabel = "PORT",
            description = "Port of the data and control services; 0 = any free port (default: 7200).")
    String listenPort;

    @Option(names = "--advertised-address", paramLabel = "HOST[:PORT]",
            description = "Address other processes reach this server at (default: listen host and port).")
    String advertisedAddress;

    @Option(names = "--memory", paramLabel = "SIZE", description = "Memory for objects, e.g. 512m, 4g (default: 1g).")
    String memory;

    @Option(names = "--memory-backend", paramLabel = "dram|pmem",
            description = "Where objects live: dram (anonymous memory) or pmem (a mapped file) (default: dram).")
    String memoryBackend;

    @Option(names = "--pmem-dir", paramLabel = "DIR",
            description = "Directory of the pmem file (default: DATA_DIR/pmem).")
    String pmemDir;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "This server's directory; also makes its stable name (default: none).")
    String dataDir;

    @Option(names = "--segment-size", paramLabel = "SIZE",
            description = "Log segment size, a multiple of 64k up to 8m (default: 8m).")
    String segmentSize;

    @Option(names = "--cleaner-threads", paramLabel = "N", description = "Log cleaner threads (default: 1).")
    String cleanerThreads;

    @Option(names = "--server-name", paramLabel = "NAME",
            description = "Stable name: the same name restarts as a new generation of the same server index"
                    + " (default: host:DATA_DIR, else the advertised host:port).")
    String serverName;

    @Option(names = "--failure-domain", paramLabel = "LABEL", description = "Rack or zone label (default: none).")
    String failureDomain;


    @Option(names = "--session-timeout-ms", paramLabel = "MS",
            description = "ZooKeeper session timeout: how long a silent server keeps its lease (default: 10000).")
    String sessionTimeoutMs;


    @Option(names = "--heartbeat-interval-ms", paramLabel = "MS",
            description = "Time between heartbeats to the leader coordinator; each acknowledged one extends this"
                + " server's lease (default: 100).")
    String heartbeatIntervalMs;

    @Option(names = "--lease-margin-ms", paramLabel = "MS",
            description = "How much earlier than the lease the coordinator granted this server stops serving"
                + " (default: 50).")
    String leaseMarginMs;

    @Option(names = "--data-executor", paramLabel = "direct|pool",
            description = "Run data calls on the transport threads (direct) or the RPC pool (default: direct).")
    String dataExecutor;

    @Option(names = "--rpc-threads", paramLabel = "N",
            description = "Threads for enumerations and control calls (default: number of cores, at least 2).")
    String rpcThreads;

    @Option(names = "--shutdown-grace-ms", paramLabel = "MS",
            description = "How long a stopping server lets calls finish (default: 2000).")
    String shutdownGraceMs;

    @Option(names = "--replicas", paramLabel = "R",
            description = "Backups each segment of this master's log is replicated to; a write is acknowledged once"
                + " all R buffered it (default: 0, memory only; 3 for production).")
    String replicas;

    @Option(names = "--backup", paramLabel = "on|off",
            description = "Run the backup service: hold replicas of other masters' logs (default: on).")
    String backup;

    @Option(names = "--replication-port", paramLabel = "PORT",
            description = "UDP port of the backup's Aeron channel; 0 = any free port (default: 0).")
    String replicationPort;

    @Option(names = "--backup-buffer-dir", paramLabel = "DIR",
            description = "Where replica buffers are memory-mapped (default: DATA_DIR/backup-buffers).")
    String backupBufferDir;

    @Option(names = "--backup-dir", paramLabel = "DIR",
            description = "Where complete replicas are written with fsync (default: DATA_DIR/backup).")
    String backupDir;

    @Option(names = "--backup-buffers", paramLabel = "N",
            description = "Replica buffers held at once; further opens are refused (default: 32).")
    String backupBuffers;

    @Option(names = "--backup-reconcile-interval-ms", paramLabel = "MS",
            description = "How often a backup asks the masters of its replicas which ones they still keep on it,"
                + " and drops the others (lost frees, replaced replicas) (default: 3000).")
    String backupReconcileIntervalMs;

    @Option(names = "--aeron-dir", paramLabel = "DIR",
            description = "Directory of the embedded Aeron media driver (default: /dev/shm/ferrite-aeron-CLUSTER-PID-N).")
    String aeronDir;

    @Option(names = "--aeron-driver", paramLabel = "embedded|external",
            description = "Run an Aeron media driver in this process, or use the one running at --aeron-dir"
                + " (default: embedded).")
    String aeronDriver;

    @Option(names = "--replication-term-length", paramLabel = "SIZE",
            description = "Term length of the replication channels, a power of two from 64k to 1g; a message"
                + " carries at most an eighth of it (default: 16m).")
    String replicationTermLength;

    @Option(names = "--replication-mtu", paramLabel = "BYTES",
            description = "MTU of the replication UDP channels, a multiple of 32 up to 65504 (default: 32k).")
    String replicationMtu;

    @Option(names = "--replication-ipc", paramLabel = "auto|off",
            description = "auto: replicate over aeron:ipc to backups that share this server's media driver, UDP"
                + " to the others; off: UDP always (default: auto).")
    String replicationIpc;

    @Override
    public Integer call() throws InterruptedException {
        return RoleSupport.run("server", parentWatch, 0,
                () -> ServerContext.from(role.settings(ServerContext.SETTINGS)).conclude(),
                (context, lifecycle) -> {
                    try (FerriteServer server = FerriteServer.start(context)) {
                        RoleSupport.ready("server", server.address(), server.metricsAddress().orElse(null));
                        // Deposed (its tablets were given away while it was out): stop, as a restart
                        // joins as a new generation.
                        server.deposed().thenRun(lifecycle::requestStop);
                        lifecycle.awaitStop();
                    }
                });
    }
}
