package io.ferrite.server;

import io.ferrite.coordinator.registry.ServerRegistry;
import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.master.EngineContext;
import io.ferrite.master.TabletOwnership;
import io.ferrite.master.memory.MemoryBackend;
import io.ferrite.server.config.Settings;
import io.ferrite.server.config.Sizes;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Configuration of a server. Defaults are the constants below; {@link #from(Settings)} reads
 * flags, environment and a properties file (one name per setting, see {@link Settings});
 * setters serve tests and embedding. {@link #conclude()} checks everything at once and derives
 * the rest (advertised address, pmem directory); a bad setting is named in the exception's
 * message by its flag name.
 */
public final class ServerContext {
    public static final String CLUSTER = "cluster";
    public static final String ZOOKEEPER = "zookeeper";
    public static final String LISTEN_HOST = "listen-host";
    public static final String LISTEN_PORT = "listen-port";
    public static final String ADVERTISED_ADDRESS = "advertised-address";
    public static final String MEMORY = "memory";
    public static final String MEMORY_BACKEND = "memory-backend";
    public static final String PMEM_DIR = "pmem-dir";
    public static final String DATA_DIR = "data-dir";
    public static final String SEGMENT_SIZE = "segment-size";
    public static final String CLEANER_THREADS = "cleaner-threads";
    public static final String SERVER_NAME = "server-name";
    public static final String FAILURE_DOMAIN = "failure-domain";
    public static final String METRICS_PORT = "metrics-port";
    public static final String SESSION_TIMEOUT_MS = "session-timeout-ms";
    public static final String CONNECTION_TIMEOUT_MS = "connection-timeout-ms";
    public static final String DATA_EXECUTOR = "data-executor";
    public static final String RPC_THREADS = "rpc-threads";
    public static final String SHUTDOWN_GRACE_MS = "shutdown-grace-ms";
    public static final String REPLICAS = "replicas";
    public static final String BACKUP = "backup";
    public static final String REPLICATION_PORT = "replication-port";
    public static final String BACKUP_BUFFER_DIR = "backup-buffer-dir";
    public static final String BACKUP_DIR = "backup-dir";
    public static final String BACKUP_BUFFERS = "backup-buffers";
    public static final String BACKUP_RECONCILE_INTERVAL_MS = "backup-reconcile-interval-ms";
    public static final String AERON_DIR = "aeron-dir";
    public static final String AERON_DRIVER = "aeron-driver";
    public static final String REPLICATION_TERM_LENGTH = "replication-term-length";
    public static final String REPLICATION_MTU = "replication-mtu";
    public static final String REPLICATION_IPC = "replication-ipc";
    public static final String HEARTBEAT_INTERVAL_MS = "heartbeat-interval-ms";
    public static final String LEASE_MARGIN_MS = "lease-margin-ms";

    /** Every setting's name: flags, {@code FERRITE_*} variables and file keys. */
    public static final List<String> SETTINGS = List.of(CLUSTER, ZOOKEEPER, LISTEN_HOST, LISTEN_PORT,
            ADVERTISED_ADDRESS, MEMORY, MEMORY_BACKEND, PMEM_DIR, DATA_DIR, SEGMENT_SIZE, CLEANER_THREADS,
            SERVER_NAME, FAILURE_DOMAIN, METRICS_PORT, SESSION_TIMEOUT_MS, CONNECTION_TIMEOUT_MS, DATA_EXECUTOR,
            RPC_THREADS, SHUTDOWN_GRACE_MS, REPLICAS, BACKUP, REPLICATION_PORT, BACKUP_BUFFER_DIR, BACKUP_DIR,
            BACKUP_BUFFERS, BACKUP_RECONCILE_INTERVAL_MS, AERON_DIR, AERON_DRIVER, REPLICATION_TERM_LENGTH, REPLICATION_MTU, REPLICATION_IPC,
            HEARTBEAT_INTERVAL_MS, LEASE_MARGIN_MS);
    /** Replica buffers a backup holds at once by default (each one segment, memory-mapped). */
    public static final int DEFAULT_BACKUP_BUFFERS = 32;

    public static final String DEFAULT_CLUSTER = "default";
    public static final String DEFAULT_ZOOKEEPER = "127.0.0.1:2181";
    public static final String DEFAULT_LISTEN_HOST = "127.0.0.1";
    /** Port of the data and control services when none is given; 0 picks a free one. */
    public static final int DEFAULT_LISTEN_PORT = 7200;
    public static final long DEFAULT_MEMORY_BYTES = EngineContext.DEFAULT_MEMORY_BYTES;
    public static final int DEFAULT_SEGMENT_SIZE_BYTES = EngineContext.DEFAULT_SEGMENT_SIZE_BYTES;
    public static final int DEFAULT_CLEANER_THREADS = EngineContext.DEFAULT_CLEANER_THREADS;
    /** Metrics on any free port (logged and printed in the READY line); -1 turns the endpoint off. */
    public static final int DEFAULT_METRICS_PORT = 0;
    public static final int METRICS_OFF = -1;
    public static final int DEFAULT_SESSION_TIMEOUT_MS = ServerRegistry.DEFAULT_SESSION_TIMEOUT_MS;
    public static final int DEFAULT_CONNECTION_TIMEOUT_MS = ServerRegistry.DEFAULT_CONNECTION_TIMEOUT_MS;
    /** Threads for enumeration streams and control calls (and every call with {@code data-executor=pool}). */
    public static final int DEFAULT_RPC_THREADS = Math.max(2, Runtime.getRuntime().availableProcessors());
    /** How long a stopping server lets calls in flight finish. */
    public static final int DEFAULT_SHUTDOWN_GRACE_MS = 2_000;
    /** Time between heartbeats to the leader coordinator (each acknowledged one extends the lease). */
    public static final int DEFAULT_HEARTBEAT_INTERVAL_MS = 100;
    /**
     * How much earlier than the lease the coordinator granted this server stops serving (the
     * coordinator waits its own margin on top before declaring the server CRASHED).
     */
    public static final int DEFAULT_LEASE_MARGIN_MS = 50;
    /** Largest request message the server accepts (DataService limit, see data.proto). */
    public static final int MAX_INBOUND_MESSAGE_BYTES = 16 << 20;

    /** Where data calls run. */
    public enum DataExecutor {
        /**
         * On the transport's event-loop threads: no thread hand-off, lowest latency. Safe because
         * reads never block and writes hold the log's append lock only briefly.
         */
        DIRECT,
        /** On the bounded {@code rpc-threads} pool. */
        POOL
    }

    private static final java.util.concurrent.atomic.AtomicInteger INSTANCES = new java.util.concurrent.atomic.AtomicInteger();

    private String cluster = DEFAULT_CLUSTER;
    private String zkConnect = DEFAULT_ZOOKEEPER;
    private String listenHost = DEFAULT_LISTEN_HOST;
    private int listenPort = DEFAULT_LISTEN_PORT;
    private String advertisedAddress;
    private long memoryBytes = DEFAULT_MEMORY_BYTES;
    private MemoryBackend memoryBackend = MemoryBackend.DRAM;
    private Path pmemDir;
    private Path dataDir;
    private long segmentSizeBytes = DEFAULT_SEGMENT_SIZE_BYTES;
    private int cleanerThreads = DEFAULT_CLEANER_THREADS;
    private String serverName;
    private String failureDomain = "";
    private int metricsPort = DEFAULT_METRICS_PORT;
    private int sessionTimeoutMs = DEFAULT_SESSION_TIMEOUT_MS;
    private int connectionTimeoutMs = DEFAULT_CONNECTION_TIMEOUT_MS;
    private DataExecutor dataExecutor = DataExecutor.DIRECT;
    private int rpcThreads = DEFAULT_RPC_THREADS;
    private int shutdownGraceMs = DEFAULT_SHUTDOWN_GRACE_MS;
    private int replicas;
    private boolean backup = true;
    private int replicationPort;
    private Path backupBufferDir;
    private Path backupDir;
    private int backupBuffers = DEFAULT_BACKUP_BUFFERS;
    private long backupReconcileIntervalMs = io.ferrite.backup.BackupService.DEFAULT_RECONCILE_INTERVAL_MS;
    private Path aeronDir;
    private boolean externalDriver;
    private long replicationTermLength = io.ferrite.server.replication.AeronTransport.DEFAULT_TERM_LENGTH;
    private long replicationMtu = io.ferrite.server.replication.AeronTransport.DEFAULT_MTU;
    private boolean replicationIpc = true;
    private int heartbeatIntervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS;
    private int leaseMarginMs = DEFAULT_LEASE_MARGIN_MS;
    private String advertisedHost;
    private int advertisedPort;
    private boolean concluded;

    /**
     * Reads every setting present in {@code settings}; the others keep their defaults.
     *
     * @throws IllegalArgumentException naming a value that does not parse
     */
    public static ServerContext from(Settings settings) {
        ServerContext c = new ServerContext();
        c.cluster = settings.string(CLUSTER, c.cluster);
        c.zkConnect = settings.string(ZOOKEEPER, c.zkConnect);
        c.listenHost = settings.string(LISTEN_HOST, c.listenHost);
        c.listenPort = settings.integer(LISTEN_PORT, c.listenPort);
        c.advertisedAddress = settings.string(ADVERTISED_ADDRESS, null);
        c.memoryBytes = settings.size(MEMORY, c.memoryBytes);
        c.memoryBackend = MemoryBackend.valueOf(
                settings.choice(MEMORY_BACKEND, "dram", "dram", "pmem").toUpperCase(Locale.ROOT));
        String pmem = settings.string(PMEM_DIR, null);
        c.pmemDir = pmem == null || pmem.isBlank() ? null : Path.of(pmem);
        String data = settings.string(DATA_DIR, null);
        c.dataDir = data == null || data.isBlank() ? null : Path.of(data);
        c.segmentSizeBytes = settings.size(SEGMENT_SIZE, c.segmentSizeBytes);
        c.cleanerThreads = settings.integer(CLEANER_THREADS, c.cleanerThreads);
        c.serverName = settings.string(SERVER_NAME, null);
        c.failureDomain = settings.string(FAILURE_DOMAIN, c.failureDomain);
        String metrics = settings.string(METRICS_PORT, null);
        c.metricsPort = metrics != null && metrics.trim().equalsIgnoreCase("off") ? METRICS_OFF
                : settings.integer(METRICS_PORT, c.metricsPort);
        c.sessionTimeoutMs = settings.integer(SESSION_TIMEOUT_MS, c.sessionTimeoutMs);
        c.connectionTimeoutMs = settings.integer(CONNECTION_TIMEOUT_MS, c.connectionTimeoutMs);
        c.dataExecutor = DataExecutor.valueOf(
                settings.choice(DATA_EXECUTOR, "direct", "direct", "pool").toUpperCase(Locale.ROOT));
        c.rpcThreads = settings.integer(RPC_THREADS, c.rpcThreads);
        c.shutdownGraceMs = settings.integer(SHUTDOWN_GRACE_MS, c.shutdownGraceMs);
        c.replicas = settings.integer(REPLICAS, c.replicas);
        c.backup = settings.choice(BACKUP, "on", "on", "off").equals("on");
        c.replicationPort = settings.integer(REPLICATION_PORT, c.replicationPort);
        c.backupBufferDir = optionalPath(settings.string(BACKUP_BUFFER_DIR, null));
        c.backupDir = optionalPath(settings.string(BACKUP_DIR, null));
        c.backupBuffers = settings.integer(BACKUP_BUFFERS, c.backupBuffers);
        c.backupReconcileIntervalMs = settings.integer(BACKUP_RECONCILE_INTERVAL_MS,
                (int) c.backupReconcileIntervalMs);
        c.aeronDir = optionalPath(settings.string(AERON_DIR, null));
        c.externalDriver = settings.choice(AERON_DRIVER, "embedded", "embedded", "external").equals("external");
        c.replicationTermLength = settings.size(REPLICATION_TERM_LENGTH, c.replicationTermLength);
        c.replicationMtu = settings.size(REPLICATION_MTU, c.replicationMtu);
        c.replicationIpc = settings.choice(REPLICATION_IPC, "auto", "auto", "off").equals("auto");
        c.heartbeatIntervalMs = settings.integer(HEARTBEAT_INTERVAL_MS, c.heartbeatIntervalMs);
        c.leaseMarginMs = settings.integer(LEASE_MARGIN_MS, c.leaseMarginMs);
        return c;
    }

    private static Path optionalPath(String value) {
        return value == null || value.isBlank() ? null : Path.of(value);
    }

    /**
     * Validates the settings and derives the advertised host and port and the pmem directory.
     *
     * @return this
     * @throws IllegalArgumentException naming the first bad setting
     */
    public ServerContext conclude() {
        String clusterProblem = ClusterPaths.clusterNameProblem(cluster);
        if (clusterProblem != null) {
            throw new IllegalArgumentException(CLUSTER + ": " + clusterProblem);
        }
        checkZooKeeper(zkConnect);
        if (listenHost == null || listenHost.isBlank()) {
            throw new IllegalArgumentException(LISTEN_HOST + ": must not be empty");
        }
        checkPort(LISTEN_PORT, listenPort, 0, "0 = any free port");
        checkPort(METRICS_PORT, metricsPort, METRICS_OFF, "0 = any free port, -1 or 'off' = no endpoint");
        deriveAdvertised();
        if (memoryBackend == MemoryBackend.PMEM && pmemDir == null && dataDir != null) {
            pmemDir = dataDir.resolve("pmem");
        }
        if (segmentSizeBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(SEGMENT_SIZE + ": " + segmentSizeBytes + " bytes is far above 8 MiB");
        }
        // The engine checks memory, segment size, backend and cleaner threads against each other.
        engineContext(TabletOwnership.ALL).conclude();
        if (serverName != null) {
            if (serverName.isEmpty() || serverName.getBytes(StandardCharsets.UTF_8).length
                    > ServerRegistry.MAX_STABLE_NAME_BYTES) {
                throw new IllegalArgumentException(SERVER_NAME + ": must be 1.." + ServerRegistry.MAX_STABLE_NAME_BYTES
                        + " bytes of UTF-8, got '" + serverName + "'");
            }
        }
        if (failureDomain == null) {
            failureDomain = "";
        }
        positive(SESSION_TIMEOUT_MS, sessionTimeoutMs);
        positive(CONNECTION_TIMEOUT_MS, connectionTimeoutMs);
        if (rpcThreads < 1 || rpcThreads > 1024) {
            throw new IllegalArgumentException(RPC_THREADS + ": " + rpcThreads + " is outside 1..1024");
        }
        if (heartbeatIntervalMs < 10 || heartbeatIntervalMs > 10_000) {
            throw new IllegalArgumentException(HEARTBEAT_INTERVAL_MS + ": " + heartbeatIntervalMs
                    + " is outside 10..10000");
        }
        if (leaseMarginMs < 0 || leaseMarginMs > 10_000) {
            throw new IllegalArgumentException(LEASE_MARGIN_MS + ": " + leaseMarginMs + " is outside 0..10000");
        }
        if (shutdownGraceMs < 0) {
            throw new IllegalArgumentException(SHUTDOWN_GRACE_MS + ": must not be negative, got " + shutdownGraceMs);
        }
        if (replicas < 0 || replicas > 8) {
            throw new IllegalArgumentException(REPLICAS + ": " + replicas + " is outside 0..8");
        }
        checkPort(REPLICATION_PORT, replicationPort, 0, "0 = any free UDP port");
        if (backupBuffers < 1 || backupBuffers > 65_536) {
            throw new IllegalArgumentException(BACKUP_BUFFERS + ": " + backupBuffers + " is outside 1..65536");
        }
        if (backupReconcileIntervalMs < 100 || backupReconcileIntervalMs > 600_000) {
            throw new IllegalArgumentException(BACKUP_RECONCILE_INTERVAL_MS + ": " + backupReconcileIntervalMs
                    + " is outside 100..600000");
        }
        if (replicationTermLength > Integer.MAX_VALUE || replicationMtu > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(replicationTermLength > Integer.MAX_VALUE
                    ? REPLICATION_TERM_LENGTH + ": " + replicationTermLength + " is above 1g"
                    : REPLICATION_MTU + ": " + replicationMtu + " is above 65504");
        }
        String transportProblem = transportOptions().problem(REPLICATION_TERM_LENGTH, REPLICATION_MTU);
        if (transportProblem != null) {
            throw new IllegalArgumentException(transportProblem);
        }
        // Several servers may share a process (tests, embedding): the default names carry a counter.
        String instance = cluster + "-" + ProcessHandle.current().pid() + "-" + INSTANCES.incrementAndGet();
        Path base = dataDir != null ? dataDir : Path.of(System.getProperty("java.io.tmpdir"), "ferrite-" + instance);
        if (backupBufferDir == null) {
            backupBufferDir = base.resolve("backup-buffers");
        }
        if (backupDir == null) {
            backupDir = base.resolve("backup");
        }
        if (externalDriver && aeronDir == null) {
            throw new IllegalArgumentException(AERON_DRIVER + ": external needs " + AERON_DIR
                    + " (the directory of the running media driver)");
        }
        if (aeronDir == null) {
            Path shm = Path.of("/dev/shm");
            aeronDir = (java.nio.file.Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")))
                    .resolve("ferrite-aeron-" + instance);
        }
        concluded = true;
        return this;
    }

    private void deriveAdvertised() {
        if (advertisedAddress == null || advertisedAddress.isBlank()) {
            advertisedHost = isWildcard(listenHost) ? localHostName() : listenHost;
            advertisedPort = 0;
            return;
        }
        String address = advertisedAddress.trim();
        int colon = address.lastIndexOf(':');
        boolean bracketed = address.startsWith("[");
        boolean hasPort = colon > 0 && (bracketed ? address.indexOf(']') < colon : address.indexOf(':') == colon);
        if (hasPort) {
            advertisedHost = address.substring(0, colon);
            try {
                advertisedPort = Integer.parseInt(address.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(ADVERTISED_ADDRESS + ": '" + advertisedAddress
                        + "' is not host or host:port", e);
            }
            checkPort(ADVERTISED_ADDRESS, advertisedPort, 1, "the port other processes reach");
        } else {
            advertisedHost = address;
            advertisedPort = 0;
        }
        if (advertisedHost.isEmpty() || advertisedHost.contains("/") || advertisedHost.contains(",")
                || advertisedHost.contains(" ")) {
            throw new IllegalArgumentException(ADVERTISED_ADDRESS + ": '" + advertisedAddress
                    + "' is not host or host:port");
        }
    }

    /** Replicas of each segment (0: memory only). */
    public int replicas() {
        return replicas;
    }

    public ServerContext replicas(int count) {
        this.replicas = count;
        return this;
    }

    /** Whether this server runs the backup service. */
    public boolean backup() {
        return backup;
    }

    public ServerContext backup(boolean enabled) {
        this.backup = enabled;
        return this;
    }

    /** UDP port of the backup's replication channel (0: any free one). */
    public int replicationPort() {
        return replicationPort;
    }

    public Path backupBufferDir() {
        return backupBufferDir;
    }

    public ServerContext backupBufferDir(Path dir) {
        this.backupBufferDir = dir;
        return this;
    }

    public Path backupDir() {
        return backupDir;
    }

    public ServerContext backupDir(Path dir) {
        this.backupDir = dir;
        return this;
    }

    public int backupBuffers() {
        return backupBuffers;
    }

    public ServerContext backupBuffers(int count) {
        this.backupBuffers = count;
        return this;
    }

    /** How often a backup reconciles its replicas with their masters (drops lost frees). */
    public long backupReconcileIntervalMs() {
        return backupReconcileIntervalMs;
    }

    public ServerContext backupReconcileIntervalMs(long intervalMs) {
        this.backupReconcileIntervalMs = intervalMs;
        return this;
    }

    /** The embedded Aeron media driver's directory. */
    public Path aeronDir() {
        return aeronDir;
    }

    /** Whether the server connects to a running media driver instead of embedding one. */
    public boolean externalDriver() {
        return externalDriver;
    }

    public ServerContext externalDriver(Path directory) {
        this.externalDriver = true;
        this.aeronDir = directory;
        return this;
    }

    /** Term length and MTU of the replication channels. */
    public io.ferrite.server.replication.AeronTransport.Options transportOptions() {
        return new io.ferrite.server.replication.AeronTransport.Options((int) replicationTermLength,
                (int) replicationMtu);
    }

    public ServerContext transportOptions(io.ferrite.server.replication.AeronTransport.Options options) {
        this.replicationTermLength = options.termLength();
        this.replicationMtu = options.mtu();
        return this;
    }

    /**
     * Whether replication between a master and a backup that share a media driver goes over
     * {@code aeron:ipc} (shared memory, no driver thread in between) rather than UDP.
     */
    public boolean replicationIpc() {
        return replicationIpc;
    }

    public ServerContext replicationIpc(boolean enabled) {
        this.replicationIpc = enabled;
        return this;
    }

    /** Whether this server needs Aeron (it backs up, or replicates its own log). */
    public boolean needsAeron() {
        return backup || replicas > 0;
    }

    /** The engine's configuration for these settings (not yet concluded). */
    public EngineContext engineContext(TabletOwnership ownership) {
        return new EngineContext()
                .memoryBytes(memoryBytes)
                .backend(memoryBackend)
                .pmemDirectory(pmemDir)
                .segmentSizeBytes((int) Math.min(Integer.MAX_VALUE, segmentSizeBytes))
                .cleanerThreads(cleanerThreads)
                .tabletOwnership(ownership);
    }

    /**
     * The stable name to register under: the configured one, else {@code host:<data dir>} when
     * a data directory is set (the same machine and directory are the same server across
     * restarts), else the advertised {@code host:port}.
     */
    public String stableName(String advertised) {
        if (serverName != null) {
            return serverName;
        }
        if (dataDir != null) {
            return advertisedHost + ":" + dataDir.toAbsolutePath().normalize();
        }
        return advertised;
    }

    static void checkZooKeeper(String connect) {
        if (connect == null || connect.isBlank()) {
            throw new IllegalArgumentException(ZOOKEEPER + ": the ZooKeeper connect string (host:port[,host:port...])"
                    + " must be given");
        }
        String servers = connect.contains("/") ? connect.substring(0, connect.indexOf('/')) : connect;
        for (String server : servers.split(",")) {
            String hostPort = server.trim();
            int colon = hostPort.lastIndexOf(':');
            boolean ok = colon > 0;
            if (ok) {
                try {
                    int port = Integer.parseInt(hostPort.substring(colon + 1));
                    ok = port > 0 && port <= 65_535;
                } catch (NumberFormatException e) {
                    ok = false;
                }
            }
            if (!ok) {
                throw new IllegalArgumentException(ZOOKEEPER + ": '" + server + "' in '" + connect + "' is not host:port");
            }
        }
    }

    private static void checkPort(String name, int port, int min, String meaning) {
        if (port < min || port > 65_535) {
            throw new IllegalArgumentException(name + ": " + port + " is outside " + min + "..65535 (" + meaning + ")");
        }
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + ": must be positive, got " + value);
        }
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getCanonicalHostName();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(ADVERTISED_ADDRESS + ": listening on all interfaces, and this machine's"
                    + " host name does not resolve; set advertised-address", e);
        }
    }

    void checkConcluded() {
        if (!concluded) {
            throw new IllegalStateException("ServerContext.conclude() was not called");
        }
    }

    // ---- accessors (fluent setters for tests and embedding) ----

    public String cluster() {
        return cluster;
    }

    public ServerContext cluster(String name) {
        this.cluster = name;
        return this;
    }

    public String zkConnect() {
        return zkConnect;
    }

    public ServerContext zkConnect(String connect) {
        this.zkConnect = connect;
        return this;
    }

    public String listenHost() {
        return listenHost;
    }

    public ServerContext listenHost(String host) {
        this.listenHost = host;
        return this;
    }

    public int listenPort() {
        return listenPort;
    }

    public ServerContext listenPort(int port) {
        this.listenPort = port;
        return this;
    }

    /** Host other processes reach this server at (derived by {@link #conclude()}). */
    public String advertisedHost() {
        return advertisedHost;
    }

    /** Port other processes reach this server at, or 0 for the port it listens on. */
    public int advertisedPort() {
        return advertisedPort;
    }

    public ServerContext advertisedAddress(String address) {
        this.advertisedAddress = address;
        return this;
    }

    public long memoryBytes() {
        return memoryBytes;
    }

    public ServerContext memoryBytes(long bytes) {
        this.memoryBytes = bytes;
        return this;
    }

    public MemoryBackend memoryBackend() {
        return memoryBackend;
    }

    public ServerContext memoryBackend(MemoryBackend backend) {
        this.memoryBackend = backend;
        return this;
    }

    public Path pmemDir() {
        return pmemDir;
    }

    public ServerContext pmemDir(Path dir) {
        this.pmemDir = dir;
        return this;
    }

    public Path dataDir() {
        return dataDir;
    }

    public ServerContext dataDir(Path dir) {
        this.dataDir = dir;
        return this;
    }

    public long segmentSizeBytes() {
        return segmentSizeBytes;
    }

    public ServerContext segmentSizeBytes(long bytes) {
        this.segmentSizeBytes = bytes;
        return this;
    }

    public int cleanerThreads() {
        return cleanerThreads;
    }

    public ServerContext cleanerThreads(int threads) {
        this.cleanerThreads = threads;
        return this;
    }

    public String serverName() {
        return serverName;
    }

    public ServerContext serverName(String name) {
        this.serverName = name;
        return this;
    }

    public String failureDomain() {
        return failureDomain;
    }

    public ServerContext failureDomain(String domain) {
        this.failureDomain = domain;
        return this;
    }

    public int metricsPort() {
        return metricsPort;
    }

    public ServerContext metricsPort(int port) {
        this.metricsPort = port;
        return this;
    }

    public int sessionTimeoutMs() {
        return sessionTimeoutMs;
    }

    public ServerContext sessionTimeoutMs(int ms) {
        this.sessionTimeoutMs = ms;
        return this;
    }

    public int connectionTimeoutMs() {
        return connectionTimeoutMs;
    }

    public ServerContext connectionTimeoutMs(int ms) {
        this.connectionTimeoutMs = ms;
        return this;
    }

    public DataExecutor dataExecutor() {
        return dataExecutor;
    }

    public ServerContext dataExecutor(DataExecutor executor) {
        this.dataExecutor = executor;
        return this;
    }

    public int rpcThreads() {
        return rpcThreads;
    }

    public ServerContext rpcThreads(int threads) {
        this.rpcThreads = threads;
        return this;
    }

    public int shutdownGraceMs() {
        return shutdownGraceMs;
    }

    public int heartbeatIntervalMs() {
        return heartbeatIntervalMs;
    }

    /** Time between heartbeats to the leader coordinator. */
    public ServerContext heartbeatIntervalMs(int ms) {
        this.heartbeatIntervalMs = ms;
        return this;
    }

    public int leaseMarginMs() {
        return leaseMarginMs;
    }

    /** How much earlier than the granted lease this server stops serving. */
    public ServerContext leaseMarginMs(int ms) {
        this.leaseMarginMs = ms;
        return this;
    }

    public ServerContext shutdownGraceMs(int ms) {
        this.shutdownGraceMs = ms;
        return this;
    }

    @Override
    public String toString() {
        return "ServerContext{cluster=" + cluster + ", zookeeper=" + zkConnect + ", listen=" + listenHost + ":" + listenPort
                + ", advertised=" + advertisedHost + (advertisedPort == 0 ? "" : ":" + advertisedPort)
                + ", memory=" + Sizes.format(memoryBytes) + " (" + memoryBackend.name().toLowerCase(Locale.ROOT)
                + (pmemDir == null ? "" : " in " + pmemDir) + "), segment-size=" + Sizes.format(segmentSizeBytes)
                + ", cleaner-threads=" + cleanerThreads + ", server-name=" + (serverName == null ? "(derived)" : serverName)
                + ", failure-domain=" + failureDomain + ", metrics-port=" + metricsPort + ", data-executor="
                + dataExecutor.name().toLowerCase(Locale.ROOT) + ", heartbeat-interval-ms=" + heartbeatIntervalMs
                + ", lease-margin-ms=" + leaseMarginMs + ", replicas=" + replicas + ", backup="
                + (backup ? "on" : "off") + (needsAeron() ? ", replication-term-length="
                + Sizes.format(replicationTermLength) + ", replication-mtu=" + replicationMtu + ", replication-ipc="
                + (replicationIpc ? "auto" : "off") : "") + "}";
    }
}
