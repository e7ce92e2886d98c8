package io.ferrite.server.launch;

import io.ferrite.server.metrics.MetricsEndpoint;
import io.ferrite.server.metrics.ProcessMetrics;
import io.ferrite.server.zookeeper.EmbeddedZooKeeper;
import io.ferrite.server.zookeeper.ZooKeeperContext;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ferrite zookeeper}: an embedded ZooKeeper server, standalone or one member of an
 * ensemble ({@code --ensemble}, {@code --ensemble-id}), until SIGTERM or Ctrl-C.
 */
@Command(name = "zookeeper", mixinStandardHelpOptions = true,
        description = {"Runs a standalone ZooKeeper server, or one member of an ensemble (--ensemble,"
                + " --ensemble-id), until SIGTERM or Ctrl-C; prints 'READY zookeeper <host:port>"
                + " [metrics=<host:port>]' on stdout once it serves clients (a member: once a quorum"
                + " of the ensemble has formed; start the members together).",
                "Settings may also come from FERRITE_<NAME> variables or a properties file (--config)."})
public final class ZooKeeperCommand implements Callable<Integer> {
    /**
     * How long ZooKeeper goes on serving after its {@code --exit-with-parent} process exits: the
     * servers and coordinators of that parent stop at the same moment, and close their sessions
     * much faster while ZooKeeper still answers.
     */
    static final long ZOOKEEPER_LINGER_MS = 5_000;

    @Spec
    CommandSpec spec;

    @Mixin
    ParentWatch parentWatch;

    @Mixin
    RoleOptions role;


    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where ZooKeeper keeps its data (required).")
    String dataDir;


    @Option(names = "--listen-port", paramLabel = "PORT",
            description = "Client port; 0 = any free port (default: 2181).")
    String listenPort;

    @Option(names = "--tick-time-ms", paramLabel = "MS",
            description = "ZooKeeper's tick; sessions may last 2 to 20 ticks (default: 2000).")
    String tickTimeMs;

    @Option(names = "--ensemble", paramLabel = "ID=HOST:PEER_PORT:ELECTION_PORT,...",
            description = {"Every member of the ensemble, this one included, e.g."
                    + " 1=127.0.0.2:2888:3888,2=127.0.0.3:2888:3888,3=127.0.0.4:2888:3888;"
                    + " each member binds its peer and election ports on its HOST and its client port"
                    + " (--listen-port) on --listen-host (default: none, a standalone server)."})
    String ensemble;

    @Option(names = "--ensemble-id", paramLabel = "ID",
            description = "This server's id (myid, 1..255) among the --ensemble members.")
    String ensembleId;

    @Option(names = "--ensemble-wait-ms", paramLabel = "MS",
            description = "How long a member waits for a quorum before it gives up; 0 = until stopped"
                    + " (default: 300000).")
    String ensembleWaitMs;


    @Override
    public Integer call() throws InterruptedException {
        return RoleSupport.run("zookeeper", parentWatch, ZOOKEEPER_LINGER_MS,
                () -> ZooKeeperContext.from(role.settings(ZooKeeperContext.SETTINGS)).conclude(),
                (context, lifecycle) -> {
                    try (ProcessMetrics processMetrics = new ProcessMetrics("zookeeper");
                         EmbeddedZooKeeper zookeeper = EmbeddedZooKeeper.start(context, true);
                         MetricsEndpoint endpoint = context.metricsPort() < 0 ? null
                                 : MetricsEndpoint.start(context.listenHost(), context.metricsPort(),
                                         processMetrics.registry())) {
                        if (!zookeeper.awaitServing(context.ensembleWaitMs(),
                                () -> lifecycle.stopRequested().isDone())) {
                            return; // asked to stop before a quorum formed
                        }
                        RoleSupport.ready("zookeeper", zookeeper.connectString(),
                                endpoint == null ? null : endpoint.address());
                        lifecycle.awaitStop();
                    }
                });
    }
}
