package io.ferrite.server.zookeeper;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Properties;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A standalone ZooKeeper server in this process ({@link ZooKeeperServerEmbedded}), with its
 * snapshots and transaction log under {@code data-dir/data}: restarting it on the same directory
 * keeps the cluster's state. The admin HTTP server is off; the four-letter commands
 * {@code ruok}, {@code srvr}, {@code stat} and {@code mntr} are allowed.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedZooKeeper.class);
    private static final long START_TIMEOUT_MS = 30_000;

    private final ZooKeeperServerEmbedded server;
    private final String connectString;

    private EmbeddedZooKeeper(ZooKeeperServerEmbedded server, String connectString) {
        this.server = server;
        this.connectString = connectString;
    }

    /**
     * Starts the server and waits until it serves.
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
                    + " with data in " + context.dataDir() + " (" + e + ")", e);
        }
        String connect;
        try {
            connect = server.getConnectionString();
        } catch (Exception e) {
            server.close();
            throw new IOException("zookeeper: started but its address is unknown (" + e + ")", e);
        }
        LOG.info("ZooKeeper serving at {} (data in {})", connect, context.dataDir());
        return new EmbeddedZooKeeper(server, connect);
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
