package io.ferrite.server.launch;

import picocli.CommandLine.Option;

/** Options of the roles that are ZooKeeper clients, servers and coordinators (a picocli mixin). */
public final class ZooKeeperClientOptions {
    @Option(names = "--cluster", paramLabel = "NAME", description = "Cluster name (default: default).")
    String cluster;

    @Option(names = "--zookeeper", paramLabel = "HOST:PORT[,...]",
            description = "ZooKeeper connect string (default: 127.0.0.1:2181).")
    String zookeeper;

    @Option(names = "--connection-timeout-ms", paramLabel = "MS",
            description = "How long to wait for ZooKeeper at start (default: 5000).")
    String connectionTimeoutMs;
}
