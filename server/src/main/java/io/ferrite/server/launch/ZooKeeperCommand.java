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

/** {@code ferrite zookeeper}: an embedded standalone ZooKeeper server, until SIGTERM or Ctrl-C. */
@Command(name = "zookeeper", mixinStandardHelpOptions = true,
        description = {"Runs a standalone ZooKeeper server until SIGTERM or Ctrl-C; prints 'READY zookeeper"
                + " <host:port> [metrics=<host:port>]' on stdout once it serves.",
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
                        RoleSupport.ready("zookeeper", zookeeper.connectString(),
                                endpoint == null ? null : endpoint.address());
                        lifecycle.awaitStop();
                    }
                });
    }
}
