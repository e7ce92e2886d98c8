package io.ferrite.coordinator;

import io.ferrite.coordinator.membership.DetectionTimeouts;
import io.ferrite.coordinator.zk.ClusterPaths;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Configuration of a coordinator. Set what differs from the defaults, then {@link #conclude()}
 * checks everything at once and derives the rest; a bad setting is named in the exception's
 * message by its flag name ({@code zookeeper}, {@code cluster}, {@code listen-port}, ...).
 * Parsing flags, environment and files into it is the launcher's job.
 */
public final class CoordinatorContext {
    public static final String DEFAULT_CLUSTER = "default";
    public static final String DEFAULT_LISTEN_HOST = "127.0.0.1";
    /** Port of the coordinator service when none is given. */
    public static final int DEFAULT_LISTEN_PORT = 7100;
    /**
     * ZooKeeper session timeout of a coordinator. It bounds how long the cluster has no leader
     * after the leader dies without closing its session (kill -9, power loss): its latch node
     * lives that long, and servers' leases lapse meanwhile (RETRY). 4 s is the shortest a
     * ZooKeeper with the default 2 s tick allows (2 ticks).
     */
    public static final int DEFAULT_SESSION_TIMEOUT_MS = 4_000;
    public static final int DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;
    /** Deadline of each call to a master (TakeTablets, DropTableData). */
    public static final int DEFAULT_MASTER_RPC_TIMEOUT_MS = 5_000;
    /** Deadline of a mutation a follower forwards to the leader. */
    public static final int DEFAULT_FORWARD_TIMEOUT_MS = 15_000;
    /** How often the leader retries unfinished creates and drops and re-checks server liveness. */
    public static final int DEFAULT_RETRY_INTERVAL_MS = 5_000;
    /** How long a mutation's reply waits for the coordinator's own cache to show the change. */
    public static final int DEFAULT_CACHE_WAIT_MS = 2_000;
    /** Lease granted by each acknowledged heartbeat (from its send time). */
    public static final int DEFAULT_LEASE_MS = DetectionTimeouts.DEFAULT_LEASE_MS;
    /** How much longer than a lease the leader waits before declaring a server CRASHED. */
    public static final int DEFAULT_LEASE_MARGIN_MS = DetectionTimeouts.DEFAULT_LEASE_MARGIN_MS;
    /** Silence after which a server is probed. */
    public static final int DEFAULT_SUSPECT_AFTER_MS = DetectionTimeouts.DEFAULT_SUSPECT_AFTER_MS;
    /** Deadline of each probe (ControlService.Ping). */
    public static final int DEFAULT_PROBE_TIMEOUT_MS = DetectionTimeouts.DEFAULT_PROBE_TIMEOUT_MS;
    /** Probes that must all fail before a silent server is condemned. */
    public static final int DEFAULT_PROBE_ATTEMPTS = DetectionTimeouts.DEFAULT_PROBE_ATTEMPTS;

    private String zkConnect;
    private String cluster = DEFAULT_CLUSTER;
    private String listenHost = DEFAULT_LISTEN_HOST;
    private int listenPort = DEFAULT_LISTEN_PORT;
    private String advertisedHost;
    private int sessionTimeoutMs = DEFAULT_SESSION_TIMEOUT_MS;
    private int connectionTimeoutMs = DEFAULT_CONNECTION_TIMEOUT_MS;
    private int masterRpcTimeoutMs = DEFAULT_MASTER_RPC_TIMEOUT_MS;
    private int forwardTimeoutMs = DEFAULT_FORWARD_TIMEOUT_MS;
    private int retryIntervalMs = DEFAULT_RETRY_INTERVAL_MS;
    private int cacheWaitMs = DEFAULT_CACHE_WAIT_MS;
    private int leaseMs = DEFAULT_LEASE_MS;
    private int leaseMarginMs = DEFAULT_LEASE_MARGIN_MS;
    private int suspectAfterMs = DEFAULT_SUSPECT_AFTER_MS;
    private int probeTimeoutMs = DEFAULT_PROBE_TIMEOUT_MS;
    private int probeAttempts = DEFAULT_PROBE_ATTEMPTS;
    private boolean concluded;

    /**
     * Validates the settings and derives the advertised host.
     *
     * @return this
     * @throws IllegalArgumentException naming the first bad setting
     */
    public CoordinatorContext conclude() {
        if (zkConnect == null || zkConnect.isBlank()) {
            throw new IllegalArgumentException("zookeeper: the ZooKeeper connect string (host:port[,host:port...])"
                    + " must be given");
        }
        for (String server : zkConnect.split(",")) {
            String hostPort = server.contains("/") ? server.substring(0, server.indexOf('/')) : server;
            if (!validHostPort(hostPort.trim())) {
                throw new IllegalArgumentException("zookeeper: '" + server + "' in '" + zkConnect
                        + "' is not host:port");
            }
        }
        String clusterProblem = ClusterPaths.clusterNameProblem(cluster);
        if (clusterProblem != null) {
            throw new IllegalArgumentException("cluster: " + clusterProblem);
        }
        if (listenHost == null || listenHost.isBlank()) {
            throw new IllegalArgumentException("listen-host: must not be empty");
        }
        if (listenPort < 0 || listenPort > 65_535) {
            throw new IllegalArgumentException("listen-port: " + listenPort + " is outside 0..65535 (0 = any free port)");
        }
        if (advertisedHost == null || advertisedHost.isBlank()) {
            advertisedHost = isWildcard(listenHost) ? localHostName() : listenHost;
        }
        if (advertisedHost.contains("/") || advertisedHost.contains(",")) {
            throw new IllegalArgumentException("advertised-host: '" + advertisedHost + "' is not a host name");
        }
        positive("session-timeout-ms", sessionTimeoutMs);
        positive("connection-timeout-ms", connectionTimeoutMs);
        positive("master-rpc-timeout-ms", masterRpcTimeoutMs);
        positive("retry-interval-ms", retryIntervalMs);
        positive("cache-wait-ms", cacheWaitMs);
        if (leaseMs < 50 || leaseMs > 60_000) {
            throw new IllegalArgumentException("lease-ms: " + leaseMs + " is outside 50..60000");
        }
        if (leaseMarginMs < 0 || leaseMarginMs > leaseMs) {
            throw new IllegalArgumentException("lease-margin-ms: " + leaseMarginMs + " is outside 0..lease-ms ("
                    + leaseMs + ")");
        }
        if (suspectAfterMs < 10 || suspectAfterMs > 600_000) {
            throw new IllegalArgumentException("suspect-after-ms: " + suspectAfterMs + " is outside 10..600000");
        }
        if (probeTimeoutMs < 1 || probeTimeoutMs > 60_000) {
            throw new IllegalArgumentException("probe-timeout-ms: " + probeTimeoutMs + " is outside 1..60000");
        }
        if (probeAttempts < 1 || probeAttempts > 100) {
            throw new IllegalArgumentException("probe-attempts: " + probeAttempts + " is outside 1..100");
        }
        if (forwardTimeoutMs <= masterRpcTimeoutMs) {
            throw new IllegalArgumentException("forward-timeout-ms: " + forwardTimeoutMs
                    + " must exceed master-rpc-timeout-ms (" + masterRpcTimeoutMs
                    + "), or a forwarded create would time out while the leader still waits for a master");
        }
        concluded = true;
        return this;
    }

    void checkConcluded() {
        if (!concluded) {
            throw new IllegalStateException("CoordinatorContext.conclude() was not called");
        }
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + ": must be positive, got " + value);
        }
    }

    private static boolean validHostPort(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            return false;
        }
        try {
            int port = Integer.parseInt(hostPort.substring(colon + 1));
            return port > 0 && port <= 65_535;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getCanonicalHostName();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("advertised-host: listening on all interfaces, and this machine's"
                    + " host name does not resolve; set advertised-host", e);
        }
    }

    public String zkConnect() {
        return zkConnect;
    }

    /** ZooKeeper connect string, {@code host:port[,host:port...]}. Required. */
    public CoordinatorContext zkConnect(String connect) {
        this.zkConnect = connect;
        return this;
    }

    public String cluster() {
        return cluster;
    }

    /** Cluster name: the ZooKeeper namespace {@code /ferrite/<cluster>}. */
    public CoordinatorContext cluster(String name) {
        this.cluster = name;
        return this;
    }

    public String listenHost() {
        return listenHost;
    }

    /** Interface the coordinator service binds to. */
    public CoordinatorContext listenHost(String host) {
        this.listenHost = host;
        return this;
    }

    public int listenPort() {
        return listenPort;
    }

    /** Port of the coordinator service; 0 picks a free port (see {@link Coordinator#address()}). */
    public CoordinatorContext listenPort(int port) {
        this.listenPort = port;
        return this;
    }

    public String advertisedHost() {
        return advertisedHost;
    }

    /** Host name other processes reach this coordinator at; defaults to the listen host. */
    public CoordinatorContext advertisedHost(String host) {
        this.advertisedHost = host;
        return this;
    }

    public int sessionTimeoutMs() {
        return sessionTimeoutMs;
    }

    public CoordinatorContext sessionTimeoutMs(int ms) {
        this.sessionTimeoutMs = ms;
        return this;
    }

    public int connectionTimeoutMs() {
        return connectionTimeoutMs;
    }

    public CoordinatorContext connectionTimeoutMs(int ms) {
        this.connectionTimeoutMs = ms;
        return this;
    }

    public int masterRpcTimeoutMs() {
        return masterRpcTimeoutMs;
    }

    public CoordinatorContext masterRpcTimeoutMs(int ms) {
        this.masterRpcTimeoutMs = ms;
        return this;
    }

    public int forwardTimeoutMs() {
        return forwardTimeoutMs;
    }

    public CoordinatorContext forwardTimeoutMs(int ms) {
        this.forwardTimeoutMs = ms;
        return this;
    }

    public int retryIntervalMs() {
        return retryIntervalMs;
    }

    public CoordinatorContext retryIntervalMs(int ms) {
        this.retryIntervalMs = ms;
        return this;
    }

    public int cacheWaitMs() {
        return cacheWaitMs;
    }

    /** The failure detector's timeouts from these settings. */
    public DetectionTimeouts detectionTimeouts() {
        return DetectionTimeouts.ofMillis(leaseMs, leaseMarginMs, suspectAfterMs, probeTimeoutMs, probeAttempts);
    }

    public int leaseMs() {
        return leaseMs;
    }

    /**
     * Lease granted to a server by each heartbeat the leader acknowledges, counted from the
     * heartbeat's send time; announced to servers in every acknowledgement.
     */
    public CoordinatorContext leaseMs(int ms) {
        this.leaseMs = ms;
        return this;
    }

    public int leaseMarginMs() {
        return leaseMarginMs;
    }

    /** How much longer than a lease the leader waits (from the heartbeat's receipt) before declaring. */
    public CoordinatorContext leaseMarginMs(int ms) {
        this.leaseMarginMs = ms;
        return this;
    }

    public int suspectAfterMs() {
        return suspectAfterMs;
    }

    /** Silence (no acknowledged heartbeat) after which a server is probed. */
    public CoordinatorContext suspectAfterMs(int ms) {
        this.suspectAfterMs = ms;
        return this;
    }

    public int probeTimeoutMs() {
        return probeTimeoutMs;
    }

    public CoordinatorContext probeTimeoutMs(int ms) {
        this.probeTimeoutMs = ms;
        return this;
    }

    public int probeAttempts() {
        return probeAttempts;
    }

    public CoordinatorContext probeAttempts(int attempts) {
        this.probeAttempts = attempts;
        return this;
    }

    public CoordinatorContext cacheWaitMs(int ms) {
        this.cacheWaitMs = ms;
        return this;
    }

    @Override
    public String toString() {
        return "CoordinatorContext{zookeeper=" + zkConnect + ", cluster=" + cluster + ", listen=" + listenHost + ":"
                + listenPort + ", advertised-host=" + advertisedHost + ", session-timeout-ms=" + sessionTimeoutMs
                + ", lease-ms=" + leaseMs + ", lease-margin-ms=" + leaseMarginMs + ", suspect-after-ms=" + suspectAfterMs
                + ", probe-timeout-ms=" + probeTimeoutMs + ", probe-attempts=" + probeAttempts + "}";
    }
}
