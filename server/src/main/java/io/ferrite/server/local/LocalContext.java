package io.ferrite.server.local;

import io.ferrite.server.config.Sizes;
import java.nio.file.Path;

/**
 * Configuration of {@code ferrite local}: how many servers, their memory, where data and logs
 * go, and the deadlines of start and stop. Defaults are the named constants; {@link #conclude()}
 * validates and names a bad setting.
 */
public final class LocalContext {
    /** Servers started by default. */
    public static final int DEFAULT_SERVERS = 3;
    public static final int MAX_COORDINATORS = 5;
    /** Most servers one supervisor starts. */
    public static final int MAX_SERVERS = 64;
    /** Memory for objects of each server, by default. */
    public static final String DEFAULT_MEMORY = "512m";
    /** The data directory by default, under {@code FERRITE_HOME} (the launcher's repository root) if set. */
    public static final String DEFAULT_DATA_DIR = "data/local";
    /** How long each process may take to print READY, and the servers to show UP. */
    public static final long DEFAULT_START_TIMEOUT_MS = 60_000;
    /** How long each group of processes may take to exit after SIGTERM before it is killed. */
    public static final long DEFAULT_STOP_TIMEOUT_MS = 15_000;
    /** Replicas of each segment by default (fewer when there are not enough other servers). */
    public static final int DEFAULT_REPLICAS = 2;
    /** The cluster name the processes register under in ZooKeeper. */
    public static final String CLUSTER_NAME = "local";
    /** Every process binds this loopback address, each on a free port. */
    public static final String LISTEN_HOST = "127.0.0.1";

    private int servers = DEFAULT_SERVERS;
    private int coordinators = 1;
    private String memory = DEFAULT_MEMORY;
    private long memoryBytes;
    private Path dataDir;
    /** Null: the default, 2 or as many as the other servers allow. */
    private Integer replicas;
    private long startTimeoutMs = DEFAULT_START_TIMEOUT_MS;
    private long stopTimeoutMs = DEFAULT_STOP_TIMEOUT_MS;
    private java.util.List<String> serverFlags = java.util.List.of();

    /**
     * The default data directory: {@code $FERRITE_HOME/data/local} when the launcher set
     * {@code FERRITE_HOME}, else {@code data/local} under the working directory.
     *
     * @return the directory
     */
    public static Path defaultDataDir() {
        String home = System.getenv("FERRITE_HOME");
        return home == null || home.isBlank() ? Path.of(DEFAULT_DATA_DIR) : Path.of(home, DEFAULT_DATA_DIR);
    }

    /**
     * Validates every setting and fills in the defaults.
     *
     * @return this
     * @throws IllegalArgumentException naming the bad setting
     */
    public LocalContext conclude() {
        if (servers < 1 || servers > MAX_SERVERS) {
            throw new IllegalArgumentException("--servers: " + servers + " is outside 1.." + MAX_SERVERS);
        }
        if (coordinators < 1 || coordinators > MAX_COORDINATORS) {
            throw new IllegalArgumentException("--coordinators: " + coordinators + " is outside 1.." + MAX_COORDINATORS);
        }
        memoryBytes = Sizes.parse(memory);
        if (memoryBytes <= 0) {
            throw new IllegalArgumentException("--memory: '" + memory + "' is not a size (e.g. 128m, 2g)");
        }
        if (replicas == null) {
            replicas = Math.min(DEFAULT_REPLICAS, servers - 1);
        }
        if (replicas < 0) {
            throw new IllegalArgumentException("--replicas: " + replicas + " is negative");
        }
        if (replicas > servers - 1) {
            throw new IllegalArgumentException("--replicas: " + replicas + " needs at least " + (replicas + 1)
                    + " servers (each segment goes to backups other than its master); --servers is " + servers);
        }
        if (startTimeoutMs < 1) {
            throw new IllegalArgumentException("--start-timeout-ms: " + startTimeoutMs + " must be positive");
        }
        if (stopTimeoutMs < 1) {
            throw new IllegalArgumentException("--stop-timeout-ms: " + stopTimeoutMs + " must be positive");
        }
        if (dataDir == null) {
            dataDir = defaultDataDir();
        }
        dataDir = dataDir.toAbsolutePath().normalize();
        return this;
    }

    public int servers() {
        return servers;
    }

    public LocalContext servers(int count) {
        this.servers = count;
        return this;
    }

    /** Coordinator processes: one leader, the others standing by (default 1). */
    public int coordinators() {
        return coordinators;
    }

    public LocalContext coordinators(int count) {
        this.coordinators = count;
        return this;
    }

    /** Memory of each server as given (e.g. {@code 512m}); passed on to the servers. */
    public String memory() {
        return memory;
    }

    public LocalContext memory(String size) {
        this.memory = size;
        return this;
    }

    /** Memory of each server in bytes (after {@link #conclude()}). */
    public long memoryBytes() {
        return memoryBytes;
    }

    /** The data directory, absolute (after {@link #conclude()}). */
    public Path dataDir() {
        return dataDir;
    }

    public LocalContext dataDir(Path dir) {
        this.dataDir = dir;
        return this;
    }

    public int replicas() {
        return replicas == null ? Math.min(DEFAULT_REPLICAS, servers - 1) : replicas;
    }

    /** Replicas of each segment; null for the default. */
    public LocalContext replicas(Integer count) {
        this.replicas = count;
        return this;
    }

    /** Extra flags of every server's command line, e.g. {@code --replication-ipc off}. */
    public java.util.List<String> serverFlags() {
        return serverFlags;
    }

    public LocalContext serverFlags(java.util.List<String> flags) {
        this.serverFlags = java.util.List.copyOf(flags);
        return this;
    }

    public long startTimeoutMs() {
        return startTimeoutMs;
    }

    public LocalContext startTimeoutMs(long ms) {
        this.startTimeoutMs = ms;
        return this;
    }

    public long stopTimeoutMs() {
        return stopTimeoutMs;
    }

    public LocalContext stopTimeoutMs(long ms) {
        this.stopTimeoutMs = ms;
        return this;
    }

    // ---- the layout of the data directory ----

    /** {@code DATA_DIR/logs}: one {@code <role>.log} per process (its stderr). */
    public Path logsDir() {
        return dataDir.resolve("logs");
    }

    /** {@code DATA_DIR/logs/<name>.log}. */
    public Path logFile(String name) {
        return logsDir().resolve(name + ".log");
    }

    /** {@code DATA_DIR/cluster-address}: the coordinators' host:port list, while the cluster runs. */
    public Path clusterAddressFile() {
        return dataDir.resolve(ClusterAddressFile.NAME);
    }

    /** {@code DATA_DIR/zookeeper}: ZooKeeper's data, fresh at every start. */
    public Path zookeeperDir() {
        return dataDir.resolve("zookeeper");
    }

    /** {@code DATA_DIR/server-<index>}: a server's directory (its stable name; pmem file if chosen). */
    public Path serverDir(int index) {
        return dataDir.resolve("server-" + index);
    }

    /** {@code DATA_DIR/local.lock}: held by the running supervisor, holds its pid. */
    public Path lockFile() {
        return dataDir.resolve("local.lock");
    }

    @Override
    public String toString() {
        return "servers=" + servers + ", memory=" + memory + ", data-dir=" + dataDir + ", replicas=" + replicas
                + ", start-timeout-ms=" + startTimeoutMs + ", stop-timeout-ms=" + stopTimeoutMs;
    }
}
