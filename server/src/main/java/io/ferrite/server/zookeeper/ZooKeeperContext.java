package io.ferrite.server.zookeeper;

import io.ferrite.server.config.Settings;
import java.nio.file.Path;
import java.util.List;

/**
 * Configuration of the embedded ZooKeeper role: a standalone server, or one member of an
 * ensemble ({@link #ENSEMBLE}, {@link #ENSEMBLE_ID}). {@link #from(Settings)} reads flags,
 * environment and file; {@link #conclude()} validates and names the bad setting.
 */
public final class ZooKeeperContext {
    public static final String DATA_DIR = "data-dir";
    public static final String LISTEN_HOST = "listen-host";
    public static final String LISTEN_PORT = "listen-port";
    public static final String TICK_TIME_MS = "tick-time-ms";
    public static final String METRICS_PORT = "metrics-port";
    /** The members of an ensemble ({@link ZooKeeperEnsemble}); unset: a standalone server. */
    public static final String ENSEMBLE = "ensemble";
    /** This server's id ({@code myid}) among the {@link #ENSEMBLE}'s members. */
    public static final String ENSEMBLE_ID = "ensemble-id";
    /** How long an ensemble member waits for a quorum to form before it gives up. */
    public static final String ENSEMBLE_WAIT_MS = "ensemble-wait-ms";
    public static final List<String> SETTINGS = List.of(DATA_DIR, LISTEN_HOST, LISTEN_PORT, TICK_TIME_MS, METRICS_PORT,
            ENSEMBLE, ENSEMBLE_ID, ENSEMBLE_WAIT_MS);

    public static final String DEFAULT_LISTEN_HOST = "127.0.0.1";
    /** ZooKeeper's usual client port; 0 picks a free one. */
    public static final int DEFAULT_LISTEN_PORT = 2181;
    /** ZooKeeper's time unit: sessions may last 2 to 20 ticks (4 s to 40 s by default). */
    public static final int DEFAULT_TICK_TIME_MS = 2_000;
    public static final int DEFAULT_METRICS_PORT = 0;
    public static final int METRICS_OFF = -1;
    /** No {@link #ENSEMBLE_ID}. */
    public static final int NO_ENSEMBLE_ID = 0;
    /** Long enough for members started together on a loaded machine; 0 waits until stopped. */
    public static final long DEFAULT_ENSEMBLE_WAIT_MS = 300_000;

    private Path dataDir;
    private String listenHost = DEFAULT_LISTEN_HOST;
    private int listenPort = DEFAULT_LISTEN_PORT;
    private int tickTimeMs = DEFAULT_TICK_TIME_MS;
    private int metricsPort = DEFAULT_METRICS_PORT;
    private String ensembleSpec;
    private ZooKeeperEnsemble ensemble;
    private int ensembleId = NO_ENSEMBLE_ID;
    private long ensembleWaitMs = DEFAULT_ENSEMBLE_WAIT_MS;
    private boolean concluded;

    public static ZooKeeperContext from(Settings settings) {
        ZooKeeperContext c = new ZooKeeperContext();
        String dir = settings.string(DATA_DIR, null);
        c.dataDir = dir == null || dir.isBlank() ? null : Path.of(dir);
        c.listenHost = settings.string(LISTEN_HOST, c.listenHost);
        c.listenPort = settings.integer(LISTEN_PORT, c.listenPort);
        c.tickTimeMs = settings.integer(TICK_TIME_MS, c.tickTimeMs);
        String metrics = settings.string(METRICS_PORT, null);
        c.metricsPort = metrics != null && metrics.trim().equalsIgnoreCase("off") ? METRICS_OFF
                : settings.integer(METRICS_PORT, c.metricsPort);
        String spec = settings.string(ENSEMBLE, null);
        c.ensembleSpec = spec == null || spec.isBlank() ? null : spec.trim();
        c.ensembleId = settings.integer(ENSEMBLE_ID, c.ensembleId);
        c.ensembleWaitMs = settings.integer(ENSEMBLE_WAIT_MS, (int) c.ensembleWaitMs);
        return c;
    }

    /**
     * @throws IllegalArgumentException naming the first bad setting
     */
    public ZooKeeperContext conclude() {
        if (dataDir == null) {
            throw new IllegalArgumentException(DATA_DIR + ": must be given (where ZooKeeper keeps its snapshots and log)");
        }
        if (listenHost == null || listenHost.isBlank()) {
            throw new IllegalArgumentException(LISTEN_HOST + ": must not be empty");
        }
        if (listenPort < 0 || listenPort > 65_535) {
            throw new IllegalArgumentException(LISTEN_PORT + ": " + listenPort + " is outside 0..65535 (0 = any free port)");
        }
        if (tickTimeMs < 10 || tickTimeMs > 60_000) {
            throw new IllegalArgumentException(TICK_TIME_MS + ": " + tickTimeMs + " is outside 10..60000");
        }
        if (metricsPort < METRICS_OFF || metricsPort > 65_535) {
            throw new IllegalArgumentException(METRICS_PORT + ": " + metricsPort
                    + " is outside -1..65535 (0 = any free port, -1 or 'off' = no endpoint)");
        }
        concludeEnsemble();
        concluded = true;
        return this;
    }

    private void concludeEnsemble() {
        if (ensembleSpec == null && ensemble == null) {
            if (ensembleId != NO_ENSEMBLE_ID) {
                throw new IllegalArgumentException(ENSEMBLE_ID + ": " + ensembleId + " is given without " + ENSEMBLE
                        + " (the members: ID=HOST:PEER_PORT:ELECTION_PORT,...)");
            }
            return;
        }
        if (ensembleSpec != null) {
            try {
                ensemble = ZooKeeperEnsemble.parse(ensembleSpec);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(ENSEMBLE + ": " + e.getMessage(), e);
            }
        }
        if (ensembleId == NO_ENSEMBLE_ID) {
            throw new IllegalArgumentException(ENSEMBLE_ID + ": must be given with " + ENSEMBLE
                    + " (this server's id among " + ensemble + ")");
        }
        if (ensemble.member(ensembleId).isEmpty()) {
            throw new IllegalArgumentException(ENSEMBLE_ID + ": " + ensembleId + " is not a member of " + ENSEMBLE
                    + " " + ensemble);
        }
        if (ensembleWaitMs < 0) {
            throw new IllegalArgumentException(ENSEMBLE_WAIT_MS + ": " + ensembleWaitMs
                    + " is negative (0 = wait until stopped)");
        }
    }

    void checkConcluded() {
        if (!concluded) {
            throw new IllegalStateException("ZooKeeperContext.conclude() was not called");
        }
    }

    public Path dataDir() {
        return dataDir;
    }

    public ZooKeeperContext dataDir(Path dir) {
        this.dataDir = dir;
        return this;
    }

    public String listenHost() {
        return listenHost;
    }

    public ZooKeeperContext listenHost(String host) {
        this.listenHost = host;
        return this;
    }

    public int listenPort() {
        return listenPort;
    }

    public ZooKeeperContext listenPort(int port) {
        this.listenPort = port;
        return this;
    }

    public int tickTimeMs() {
        return tickTimeMs;
    }

    public ZooKeeperContext tickTimeMs(int ms) {
        this.tickTimeMs = ms;
        return this;
    }

    public int metricsPort() {
        return metricsPort;
    }

    public ZooKeeperContext metricsPort(int port) {
        this.metricsPort = port;
        return this;
    }

    /** The ensemble this server is a member of, or null for a standalone server. */
    public ZooKeeperEnsemble ensemble() {
        return ensemble;
    }

    /**
     * Makes this server a member of an ensemble (null: standalone).
     *
     * @param members  the members
     * @param memberId this server's id among them
     * @return this
     */
    public ZooKeeperContext ensemble(ZooKeeperEnsemble members, int memberId) {
        this.ensembleSpec = null;
        this.ensemble = members;
        this.ensembleId = members == null ? NO_ENSEMBLE_ID : memberId;
        return this;
    }

    /** This server's id ({@code myid}) in its {@link #ensemble()}, or {@link #NO_ENSEMBLE_ID}. */
    public int ensembleId() {
        return ensembleId;
    }

    public long ensembleWaitMs() {
        return ensembleWaitMs;
    }

    public ZooKeeperContext ensembleWaitMs(long ms) {
        this.ensembleWaitMs = ms;
        return this;
    }
}
