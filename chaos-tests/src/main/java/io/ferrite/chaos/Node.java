package io.ferrite.chaos;

/**
 * One container of the chaos cluster: its role, a name for logs, the 127.0.0.x address it binds
 * (host networking, so containers are told apart by address) and the uid its process runs as
 * (so partition rules can tell its packets apart: on loopback every connection's source address
 * is 127.0.0.1, whatever address the peer listens on).
 *
 * @param role    zookeeper, coordinator or server
 * @param name    e.g. {@code zk2}, {@code server4}
 * @param host    the address it binds, e.g. {@code 127.0.0.12}
 * @param uid     the uid (and gid) its process runs as
 * @param ordinal 1-based index within its role
 */
public record Node(Role role, String name, String host, int uid, int ordinal) {
    /** What a container runs. */
    public enum Role { ZOOKEEPER, COORDINATOR, SERVER }

    /** ZooKeeper's client port, the coordinator's and the server's gRPC ports (one each per address). */
    public static final int ZK_CLIENT_PORT = 2181;
    public static final int ZK_PEER_PORT = 2888;
    public static final int ZK_ELECTION_PORT = 3888;
    public static final int COORDINATOR_PORT = 7100;
    public static final int SERVER_PORT = 7200;

    /** {@code host:port} clients reach it at. */
    public String address() {
        return switch (role) {
            case ZOOKEEPER -> host + ":" + ZK_CLIENT_PORT;
            case COORDINATOR -> host + ":" + COORDINATOR_PORT;
            case SERVER -> host + ":" + SERVER_PORT;
        };
    }

    @Override
    public String toString() {
        return name + "@" + host;
    }
}
