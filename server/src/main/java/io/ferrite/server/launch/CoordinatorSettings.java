package io.ferrite.server.launch;

import io.ferrite.coordinator.CoordinatorContext;
import io.ferrite.server.ServerContext;
import io.ferrite.server.config.Settings;
import java.util.List;

/** The coordinator role's settings: a {@link CoordinatorContext} and the metrics port. */
final class CoordinatorSettings {
    static final String CLUSTER = "cluster";
    static final String ZOOKEEPER = "zookeeper";
    static final String LISTEN_HOST = "listen-host";
    static final String LISTEN_PORT = "listen-port";
    static final String ADVERTISED_HOST = "advertised-host";
    static final String SESSION_TIMEOUT_MS = "session-timeout-ms";
    static final String CONNECTION_TIMEOUT_MS = "connection-timeout-ms";
    static final String MASTER_RPC_TIMEOUT_MS = "master-rpc-timeout-ms";
    static final String FORWARD_TIMEOUT_MS = "forward-timeout-ms";
    static final String RETRY_INTERVAL_MS = "retry-interval-ms";
    static final String METRICS_PORT = "metrics-port";
    static final String LEASE_MS = "lease-ms";
    static final String LEASE_MARGIN_MS = "lease-margin-ms";
    static final String SUSPECT_AFTER_MS = "suspect-after-ms";
    static final String PROBE_TIMEOUT_MS = "probe-timeout-ms";
    static final String PROBE_ATTEMPTS = "probe-attempts";
    static final List<String> SETTINGS = List.of(CLUSTER, ZOOKEEPER, LISTEN_HOST, LISTEN_PORT, ADVERTISED_HOST,
            SESSION_TIMEOUT_MS, CONNECTION_TIMEOUT_MS, MASTER_RPC_TIMEOUT_MS, FORWARD_TIMEOUT_MS, RETRY_INTERVAL_MS,
            METRICS_PORT, LEASE_MS, LEASE_MARGIN_MS, SUSPECT_AFTER_MS, PROBE_TIMEOUT_MS, PROBE_ATTEMPTS);

    private CoordinatorSettings() {
    }

    /**
     * The coordinator's context (concluded).
     *
     * @throws IllegalArgumentException naming a bad setting
     */
    static CoordinatorContext context(Settings s) {
        return new CoordinatorContext()
                .cluster(s.string(CLUSTER, CoordinatorContext.DEFAULT_CLUSTER))
                .zkConnect(s.string(ZOOKEEPER, ServerContext.DEFAULT_ZOOKEEPER))
                .listenHost(s.string(LISTEN_HOST, CoordinatorContext.DEFAULT_LISTEN_HOST))
                .listenPort(s.integer(LISTEN_PORT, CoordinatorContext.DEFAULT_LISTEN_PORT))
                .advertisedHost(s.string(ADVERTISED_HOST, null))
                .sessionTimeoutMs(s.integer(SESSION_TIMEOUT_MS, CoordinatorContext.DEFAULT_SESSION_TIMEOUT_MS))
                .connectionTimeoutMs(s.integer(CONNECTION_TIMEOUT_MS, CoordinatorContext.DEFAULT_CONNECTION_TIMEOUT_MS))
                .masterRpcTimeoutMs(s.integer(MASTER_RPC_TIMEOUT_MS, CoordinatorContext.DEFAULT_MASTER_RPC_TIMEOUT_MS))
                .forwardTimeoutMs(s.integer(FORWARD_TIMEOUT_MS, CoordinatorContext.DEFAULT_FORWARD_TIMEOUT_MS))
                .retryIntervalMs(s.integer(RETRY_INTERVAL_MS, CoordinatorContext.DEFAULT_RETRY_INTERVAL_MS))
                .leaseMs(s.integer(LEASE_MS, CoordinatorContext.DEFAULT_LEASE_MS))
                .leaseMarginMs(s.integer(LEASE_MARGIN_MS, CoordinatorContext.DEFAULT_LEASE_MARGIN_MS))
                .suspectAfterMs(s.integer(SUSPECT_AFTER_MS, CoordinatorContext.DEFAULT_SUSPECT_AFTER_MS))
                .probeTimeoutMs(s.integer(PROBE_TIMEOUT_MS, CoordinatorContext.DEFAULT_PROBE_TIMEOUT_MS))
                .probeAttempts(s.integer(PROBE_ATTEMPTS, CoordinatorContext.DEFAULT_PROBE_ATTEMPTS))
                .conclude();
    }

    /**
     * The metrics port: 0 = any free port, -1 = off.
     *
     * @throws IllegalArgumentException if out of range
     */
    static int metricsPort(Settings s) {
        String raw = s.string(METRICS_PORT, null);
        int port = raw != null && raw.trim().equalsIgnoreCase("off") ? -1 : s.integer(METRICS_PORT, 0);
        if (port < -1 || port > 65_535) {
            throw new IllegalArgumentException(METRICS_PORT + ": " + port
                    + " is outside -1..65535 (0 = any free port, -1 or 'off' = no endpoint)");
        }
        return port;
    }
}
