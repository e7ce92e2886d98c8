package io.ferrite.server.launch;

import io.ferrite.server.metrics.MetricsEndpoint;
import io.ferrite.server.metrics.ProcessMetrics;
import io.ferrite.server.zookeeper.EmbeddedZooKeeper;
import io.ferrite.server.zookeeper.ZooKeeperContext;
import java.io.IOException;
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

    @Option(names = "--config", paramLabel = "FILE", description = "Properties file with settings (FERRITE_CONFIG).")
    String config;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where ZooKeeper keeps its data (required).")
    String dataDir;

    @Option(names = "--listen-host", paramLabel = "HOST", description = "Interface to bind (default: 127.0.0.1).")
    String listenHost;

    @Option(names = "--listen-port", paramLabel = "PORT",
            description = "Client port; 0 = any free port (default: 2181).")
    String listenPort;

    @Option(names = "--tick-time-ms", paramLabel = "MS",
            description = "ZooKeeper's tick; sessions may last 2 to 20 ticks (default: 2000).")
    String tickTimeMs;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Prometheus endpoint port; 0 = any free port, off = none (default: 0).")
    String metricsPort;

    @Override
    public Integer call() throws InterruptedException {
        ZooKeeperContext context;
        try {
            String file = config != null ? config : System.getenv("FERRITE_CONFIG");
            context = ZooKeeperContext.from(RoleSupport.settings(spec, ZooKeeperContext.SETTINGS, file)).conclude();
        } catch (IllegalArgumentException e) {
            RoleSupport.failed("zookeeper", e.getMessage());
            return RoleSupport.EXIT_CONFIG;
        }
        int status = 0;
        RoleSupport.Lifecycle lifecycle = new RoleSupport.Lifecycle("zookeeper");
        parentWatch.watch("zookeeper", ZOOKEEPER_LINGER_MS);
        try (ProcessMetrics processMetrics = new ProcessMetrics("zookeeper");
             EmbeddedZooKeeper zookeeper = EmbeddedZooKeeper.start(context, true);
             MetricsEndpoint endpoint = context.metricsPort() < 0 ? null
                     : MetricsEndpoint.start(context.listenHost(), context.metricsPort(), processMetrics.registry())) {
            RoleSupport.ready("zookeeper", zookeeper.connectString(), endpoint == null ? null : endpoint.address());
            lifecycle.awaitStop();
        } catch (IOException | RuntimeException e) {
            RoleSupport.failed("zookeeper", e.getMessage());
            status = RoleSupport.EXIT_START;
        } finally {
            lifecycle.stopped(status);
        }
        return status;
    }
}
