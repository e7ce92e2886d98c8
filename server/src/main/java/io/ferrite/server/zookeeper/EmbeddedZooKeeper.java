package io.ferrite.server.zookeeper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A ZooKeeper server in this process ({@link ZooKeeperServerEmbedded}), with its snapshots and
 * transaction log under {@code data-dir/data}: restarting it on the same directory keeps the
 * cluster's state. The admin HTTP server is off; the four-letter commands {@code ruok},
 * {@code srvr}, {@code stat} and {@code mntr} are allowed.
 *
 * <p>Standalone unless the context names an {@link ZooKeeperContext#ensemble() ensemble}; then it is
 * a quorum peer ({@code myid} written to {@code data-dir/data}, one {@code server.ID} line per
 * member), which binds its ports at {@link #start} but serves clients only once a majority of the
 * members has elected a leader: {@link #awaitServing} waits for that.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedZooKeeper.class);
    private static final long START_TIMEOUT_MS = 30_000;
    /** Timeout of one four-letter command on the own client port. */
    private static final int PROBE_TIMEOUT_MS = 2_000;
    /** Pause between two probes while waiting for the quorum. */
    private static final long PROBE_INTERVAL_MS = 100;
    /** How often the wait for the quorum is logged. */
    private static final long WAIT_LOG_INTERVAL_MS = 10_000;
    static final String MYID_FILE = "myid";

    private final ZooKeeperServerEmbedded server;
    private final String connectString;
    private final String probeHost;
    private final int clientPort;
    private final ZooKeeperEnsemble ensemble;

    private EmbeddedZooKeeper(ZooKeeperServerEmbedded server, String connectString, String probeHost, int clientPort,
                              ZooKeeperEnsemble ensemble) {
        this.server = server;
        this.connectString = connectString;
        this.probeHost = probeHost;
        this.clientPort = clientPort;
        this.ensemble = ensemble;
    }

    /**
     * Starts the server: a standalone one serves when this returns; an ensemble member has bound
     * its ports and serves after {@link #awaitServing}.
     *
     * @param exitOnFailure whether a server that dies ends the process (the zookeeper role) or is only logged (tests)
     */
    public static EmbeddedZooKeeper start(ZooKeeperContext context, boolean exitOnFailure) throws IOException {
        context.checkConcluded();
        try {
            Files.createDirectories(context.dataDir());
        } catch (IOException e) {
            throw new IOException(ZooKeeperContext.DATA_DIR + ": cannot create " + context.dataDir() + " ("
                    + e.getMessage() + ")", e);
        }
        Properties properties = new Properties();
        properties.setProperty("clientPort", Integer.toString(context.listenPort()));
        properties.setProperty("clientPortAddress", context.listenHost());
        properties.setProperty("dataDir", context.dataDir().resolve("data").toAbsolutePath().toString());
        properties.setProperty("tickTime", Integer.toString(context.tickTimeMs()));
        properties.setProperty("initLimit", "10");
        properties.setProperty("syncLimit", "5");
        properties.setProperty("maxClientCnxns", "0");
        properties.setProperty("admin.enableServer", "false");
        properties.setProperty("4lw.commands.whitelist", "ruok,srvr,stat,mntr");
        properties.setProperty("autopurge.snapRetainCount", "3");
        properties.setProperty("autopurge.purgeInterval", "1");
        ZooKeeperEnsemble ensemble = context.ensemble();
        if (ensemble != null) {
            addEnsemble(properties, ensemble, context.ensembleId(), context.dataDir().resolve("data"));
        }
        ZooKeeperServerEmbedded server;
        try {
            server = ZooKeeperServerEmbedded.builder()
                    .baseDir(context.dataDir().toAbsolutePath())
                    .configuration(properties)
                    .exitHandler(exitOnFailure ? ExitHandler.EXIT : ExitHandler.LOG_ONLY)
                    .build();
            server.start(START_TIMEOUT_MS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("zookeeper: could not start on " + context.listenHost() + ":" + context.listenPort()
                    + (ensemble == null ? "" : " as member " + context.ensembleId() + " of " + ensemble)
                    + " with data in " + context.dataDir() + " (" + e + ")", e);
        }
        String connect;
        int port;
        try {
            connect = server.getConnectionString();
            port = server.getClientPort();
        } catch (Exception e) {
            server.close();
            throw new IOException("zookeeper: started but its address is unknown (" + e + ")", e);
        }
        String host = context.listenHost();
        String probeHost = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
        if (ensemble == null) {
            LOG.info("ZooKeeper serving at {} (data in {})", connect, context.dataDir());
        } else {
            LOG.info("ZooKeeper member {} of {} started at {} (data in {}); serves once a quorum forms",
                    context.ensembleId(), ensemble, connect, context.dataDir());
        }
        return new EmbeddedZooKeeper(server, connect, probeHost, port, ensemble);
    }

    /**
     * Makes the configuration that of an ensemble member: its {@code myid} file, one
     * {@code server.ID=host:peer:election} line per member (the client port is this server's
     * {@code clientPort}), and a quorum peer even for a single member.
     */
    private static void addEnsemble(Properties properties, ZooKeeperEnsemble ensemble, int myId, Path zkDataDir)
            throws IOException {
        Path myIdFile = zkDataDir.resolve(MYID_FILE);
        String existing;
        try {
            Files.createDirectories(zkDataDir);
            existing = Files.exists(myIdFile) ? Files.readString(myIdFile, StandardCharsets.US_ASCII).trim() : null;
            if (existing == null) {
                Files.writeString(myIdFile, myId + "\n", StandardCharsets.US_ASCII);
            }
        } catch (IOException e) {
            throw new IOException(ZooKeeperContext.DATA_DIR + ": cannot write " + myIdFile + " (" + e + ")", e);
        }
        if (existing != null && !existing.equals(Integer.toString(myId))) {
            throw new IOException(ZooKeeperContext.ENSEMBLE_ID + ": " + myId + ", but " + myIdFile
                    + " says this data belongs to member " + existing);
        }
        for (ZooKeeperEnsemble.Member member : ensemble.members()) {
            properties.setProperty("server." + member.id(), member.serverAddress());
        }
        // Not "standaloneEnabled=false": QuorumPeerConfig keeps it in a static field, so every
        // later standalone server in the same JVM (tests' TestingServer) refused to start.
        // reconfigEnabled is static too, and false is its default.
        properties.setProperty("reconfigEnabled", "false");
        properties.setProperty("quorumListenOnAllIPs", "false");
    }

    /**
     * Waits until this server serves clients: at once for a standalone server; for an ensemble
     * member, once a majority of the members is up and has elected a leader.
     *
     * @param timeoutMs how long to wait; 0 = until served or {@code stop}
     * @param stop      polled while waiting: true ends the wait early
     * @return true once serving; false if {@code stop} became true first
     * @throws IOException          if it does not serve within {@code timeoutMs}
     * @throws InterruptedException if interrupted
     */
    public boolean awaitServing(long timeoutMs, BooleanSupplier stop) throws IOException, InterruptedException {
        if (ensemble == null) {
            return true;
        }
        long startNs = System.nanoTime();
        long nextLogMs = WAIT_LOG_INTERVAL_MS;
        while (true) {
            Optional<String> mode = mode();
            long waitedMs = (System.nanoTime() - startNs) / 1_000_000;
            if (mode.isPresent()) {
                LOG.info("ZooKeeper serving at {} as {} of {} (quorum after {} ms)", connectString, mode.get(),
                        ensemble, waitedMs);
                return true;
            }
            if (stop.getAsBoolean()) {
                return false;
            }
            if (timeoutMs > 0 && waitedMs >= timeoutMs) {
                throw new IOException("zookeeper: no quorum within " + timeoutMs + " ms (" + ZooKeeperContext.ENSEMBLE_WAIT_MS
                        + "): fewer than " + ensemble.quorumSize() + " of the members " + ensemble
                        + " are up and reachable");
            }
            if (waitedMs >= nextLogMs) {
                LOG.info("ZooKeeper at {} waiting for a quorum ({} of {} members) for {} s", connectString,
                        ensemble.quorumSize(), ensemble.members().size(), waitedMs / 1000);
                nextLogMs += WAIT_LOG_INTERVAL_MS;
            }
            Thread.sleep(PROBE_INTERVAL_MS);
        }
    }

    /**
     * This server's mode as its {@code srvr} command tells: {@code leader}, {@code follower},
     * {@code observer} or {@code standalone}; empty while it does not serve clients or does not answer.
     */
    public Optional<String> mode() {
        try {
            return FourLetterWords.mode(FourLetterWords.ask(probeHost, clientPort, "srvr", PROBE_TIMEOUT_MS));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** {@code host:port} clients connect to. */
    public String connectString() {
        return connectString;
    }

    @Override
    public void close() {
        server.close();
    }
}
