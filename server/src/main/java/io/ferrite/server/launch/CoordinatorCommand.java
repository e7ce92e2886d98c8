package io.ferrite.server.launch;

import io.ferrite.coordinator.Coordinator;
import io.ferrite.coordinator.CoordinatorContext;
import io.ferrite.server.config.Settings;
import io.ferrite.server.metrics.MetricsEndpoint;
import io.ferrite.server.metrics.ProcessMetrics;
import io.micrometer.core.instrument.Gauge;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ferrite coordinator}: a coordinator (leader or standby), until SIGTERM or Ctrl-C. */
@Command(name = "coordinator", mixinStandardHelpOptions = true,
        description = {"Runs a coordinator until SIGTERM or Ctrl-C; prints 'READY coordinator <host:port>"
                + " [metrics=<host:port>]' on stdout once it serves.",
                "Settings may also come from FERRITE_<NAME> variables or a properties file (--config)."})
public final class CoordinatorCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ParentWatch parentWatch;

    @Option(names = "--config", paramLabel = "FILE", description = "Properties file with settings (FERRITE_CONFIG).")
    String config;

    @Option(names = "--cluster", paramLabel = "NAME", description = "Cluster name (default: default).")
    String cluster;

    @Option(names = "--zookeeper", paramLabel = "HOST:PORT[,...]",
            description = "ZooKeeper connect string (default: 127.0.0.1:2181).")
    String zookeeper;

    @Option(names = "--listen-host", paramLabel = "HOST", description = "Interface to bind (default: 127.0.0.1).")
    String listenHost;

    @Option(names = "--listen-port", paramLabel = "PORT",
            description = "Port of the coordinator service; 0 = any free port (default: 7100).")
    String listenPort;

    @Option(names = "--advertised-host", paramLabel = "HOST",
            description = "Host other processes reach this coordinator at (default: the listen host).")
    String advertisedHost;

    @Option(names = "--session-timeout-ms", paramLabel = "MS", description = "ZooKeeper session timeout (default: 10000).")
    String sessionTimeoutMs;

    @Option(names = "--connection-timeout-ms", paramLabel = "MS",
            description = "How long to wait for ZooKeeper at start (default: 5000).")
    String connectionTimeoutMs;

    @Option(names = "--master-rpc-timeout-ms", paramLabel = "MS",
            description = "Deadline of calls to masters (default: 5000).")
    String masterRpcTimeoutMs;

    @Option(names = "--forward-timeout-ms", paramLabel = "MS",
            description = "Deadline of mutations forwarded to the leader (default: 15000).")
    String forwardTimeoutMs;

    @Option(names = "--retry-interval-ms", paramLabel = "MS",
            description = "How often the leader finishes pending work and re-checks liveness (default: 5000).")
    String retryIntervalMs;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Prometheus endpoint port; 0 = any free port, off = none (default: 0).")
    String metricsPort;

    @Override
    public Integer call() throws InterruptedException {
        CoordinatorContext context;
        int metrics;
        try {
            String file = config != null ? config : System.getenv("FERRITE_CONFIG");
            Settings settings = RoleSupport.settings(spec, CoordinatorSettings.SETTINGS, file);
            context = CoordinatorSettings.context(settings);
            metrics = CoordinatorSettings.metricsPort(settings);
        } catch (IllegalArgumentException e) {
            RoleSupport.failed("coordinator", e.getMessage());
            return RoleSupport.EXIT_CONFIG;
        }
        int status = 0;
        RoleSupport.Lifecycle lifecycle = new RoleSupport.Lifecycle("coordinator");
        parentWatch.watch("coordinator", 0);
        try (ProcessMetrics processMetrics = new ProcessMetrics("coordinator");
             Coordinator coordinator = Coordinator.start(context);
             MetricsEndpoint endpoint = metrics < 0 ? null
                     : MetricsEndpoint.start(context.listenHost(), metrics, processMetrics.registry())) {
            Gauge.builder("ferrite.coordinator.leader", coordinator, c -> c.isLeader() ? 1 : 0)
                    .description("1 while this coordinator is the leader").strongReference(true)
                    .register(processMetrics.registry());
            RoleSupport.ready("coordinator", coordinator.address(), endpoint == null ? null : endpoint.address());
            lifecycle.awaitStop();
        } catch (IOException | RuntimeException e) {
            RoleSupport.failed("coordinator", e.getMessage());
            status = RoleSupport.EXIT_START;
        } finally {
            lifecycle.stopped(status);
        }
        return status;
    }
}
