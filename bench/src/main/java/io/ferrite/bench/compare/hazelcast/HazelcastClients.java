package io.ferrite.bench.compare.hazelcast;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.client.impl.connection.tcp.RoutingMode;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.spi.properties.ClusterProperty;
import java.util.List;

/**
 * The one way this package connects a Hazelcast client (the peer's own, and the YCSB binding's):
 * smart routing (a connection to every member, each operation sent to its partition's owner), no
 * logging, and a bounded wait for the cluster instead of Hazelcast's default of retrying forever.
 */
final class HazelcastClients {
    /** How long a new client waits for the cluster before giving up. */
    static final long CLUSTER_CONNECT_TIMEOUT_MS = 60_000;

    private HazelcastClients() {
    }

    /**
     * Connects a client to the cluster.
     *
     * @param cluster the cluster name
     * @param members member addresses, {@code host:port}
     * @throws IllegalStateException if no member answers within {@link #CLUSTER_CONNECT_TIMEOUT_MS}
     */
    static HazelcastInstance connect(String cluster, List<String> members) {
        // Hazelcast reads the logging type from the system property before any config is seen.
        if (System.getProperty(ClusterProperty.LOGGING_TYPE.getName()) == null) {
            System.setProperty(ClusterProperty.LOGGING_TYPE.getName(), "none");
        }
        ClientConfig config = new ClientConfig();
        config.setClusterName(cluster);
        config.setProperty(ClusterProperty.LOGGING_TYPE.getName(), "none");
        config.getNetworkConfig().setAddresses(members)
                .getClusterRoutingConfig().setRoutingMode(RoutingMode.ALL_MEMBERS);
        config.getConnectionStrategyConfig().getConnectionRetryConfig()
                .setClusterConnectTimeoutMillis(CLUSTER_CONNECT_TIMEOUT_MS);
        return HazelcastClient.newHazelcastClient(config);
    }
}
