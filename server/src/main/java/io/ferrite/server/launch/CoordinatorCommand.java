package io.ferrite.server.launch;

import io.ferrite.coordinator.Coordinator;
import io.ferrite.coordinator.CoordinatorContext;
import io.ferrite.server.config.Settings;
import io.ferrite.server.metrics.MetricsEndpoint;
import io.ferrite.server.metrics.ProcessMetrics;
import io.micrometer.core.instrument.Gauge;
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

    @Mixin
    RoleOptions role;

    @Mixin
    ZooKeeperClientOptions zooKeeperClient;





    @Option(names = "--listen-port", paramLabel = "PORT",
            description = "Port of the coordinator service; 0 = any free port (default: 7100).")
    String listenPort;

    @Option(names = "--advertised-host", paramLabel = "HOST",
            description = "Host other processes reach this coordinator at (default: the listen host).")
    String advertisedHost;

    @Option(names = "--session-timeout-ms", paramLabel = "MS",
            description = "ZooKeeper session timeout; a leader killed without closing its session is replaced after"
                + " this long (default: 4000).")
    String sessionTimeoutMs;

    @Option(names = "--lease-ms", paramLabel = "MS",
            description = "Lease each acknowledged heartbeat grants a server, from its send time (default: 600).")
    String leaseMs;

    @Option(names = "--lease-margin-ms", paramLabel = "MS",
            description = "How much longer than a lease the leader waits before declaring a silent server CRASHED"
                + " (default: 50).")
    String leaseMarginMs;

    @Option(names = "--suspect-after-ms", paramLabel = "MS",
            description = "Silence (no heartbeat) after which a server is probed (default: 500).")
    String suspectAfterMs;

    @Option(names = "--probe-timeout-ms", paramLabel = "MS",
            description = "Deadline of each probe of a suspected server (default: 200).")
    String probeTimeoutMs;

    @Option(names = "--probe-attempts", paramLabel = "N",
            description = "Probes that must all fail before a silent server is declared (default: 2).")
    String probeAttempts;


    @Option(names = "--master-rpc-timeout-ms", paramLabel = "MS",
            description = "Deadline of calls to masters (default: 5000).")
    String masterRpcTimeoutMs;

    @Option(names = "--forward-timeout-ms", paramLabel = "MS",
            description = "Deadline of mutations forwarded to the leader (default: 15000).")
    String forwardTimeoutMs;

    @Option(names = "--retry-interval-ms", paramLabel = "MS",
            description = "How often the leader finishes pending work and re-checks liveness (default: 5000).")
    String retryIntervalMs;


    /** The coordinator's configuration and its Prometheus port (negative: none). */
    private record Configured(CoordinatorContext context, int metricsPort) {
    }

    @Override
    public Integer call() throws InterruptedException {
        return RoleSupport.run("coordinator", parentWatch, 0, () -> {
            Settings settings = role.settings(CoordinatorSettings.SETTINGS);
            return new Configured(CoordinatorSettings.context(settings), CoordinatorSettings.metricsPort(settings));
        }, (configured, lifecycle) -> {
            CoordinatorContext context = configured.context();
            int metrics = configured.metricsPort();
            try (ProcessMetrics processMetrics = new ProcessMetrics("coordinator");
                 Coordinator coordinator = Coordinator.start(context);
                 MetricsEndpoint endpoint = metrics < 0 ? null
                         : MetricsEndpoint.start(context.listenHost(), metrics, processMetrics.registry())) {
                Gauge.builder("ferrite.coordinator.leader", coordinator, c -> c.isLeader() ? 1 : 0)
                        .description("1 while this coordinator is the leader").strongReference(true)
                        .register(processMetrics.registry());
                Gauge.builder("ferrite.coordinator.recoveries.running", coordinator,
                                c -> c.recoveries().inProgress().size())
                        .description("crash recoveries this leader is running").strongReference(true)
                        .register(processMetrics.registry());
                Gauge.builder("ferrite.coordinator.recoveries.partitions.remaining", coordinator,
                                c -> c.recoveries().inProgress().stream()
                                        .mapToInt(p -> p.partitions() - p.partitionsDone()).sum())
                        .description("partitions of running recoveries not yet handed over").strongReference(true)
                        .register(processMetrics.registry());
                Gauge.builder("ferrite.coordinator.recoveries.bytes.replayed", coordinator,
                                c -> c.recoveries().inProgress().stream().mapToLong(p -> p.bytesReplayed()).sum())
                        .description("bytes replayed so far by running recoveries").strongReference(true)
                        .register(processMetrics.registry());
                Gauge.builder("ferrite.coordinator.recoveries.finished", coordinator,
                                c -> c.recoveries().finished().size())
                        .description("crash recoveries this coordinator finished").strongReference(true)
                        .register(processMetrics.registry());
                Gauge.builder("ferrite.coordinator.epoch", coordinator, Coordinator::epoch)
                        .description("Epoch of this coordinator's leader term (0 when not leader)").strongReference(true)
                        .register(processMetrics.registry());
                io.micrometer.core.instrument.FunctionCounter.builder("ferrite.failure.declared", coordinator,
                                c -> c.failureDetector().declaredCount())
                        .description("Servers this coordinator declared CRASHED").register(processMetrics.registry());
                io.micrometer.core.instrument.FunctionCounter.builder("ferrite.failure.probes", coordinator,
                                c -> c.failureDetector().probesSent())
                        .description("Probes (Ping) of suspected servers").register(processMetrics.registry());
                RoleSupport.ready("coordinator", coordinator.address(), endpoint == null ? null : endpoint.address());
                lifecycle.awaitStop();
            }
        });
    }
}
