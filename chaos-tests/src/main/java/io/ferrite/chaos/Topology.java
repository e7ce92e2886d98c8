package io.ferrite.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Where each container of a chaos cluster lives: ZooKeeper members on 127.0.0.2…, coordinators
 * after them, servers from 127.0.0.11. Each runs as uid 20000 + the last byte of its address.
 *
 * @param zookeepers   the ensemble's members
 * @param coordinators the coordinators
 * @param servers      the servers (master and backup each)
 */
public record Topology(List<Node> zookeepers, List<Node> coordinators, List<Node> servers) {
    /** The uid of the workload client's process (the chaos JVM runs as root). */
    public static final int CLIENT_UID = 0;

    /** The topology: 3 ZooKeeper members, 2 coordinators, {@code servers} servers. */
    public static Topology of(int zookeepers, int coordinators, int servers) {
        if (zookeepers < 1 || zookeepers > 3 || coordinators < 1 || coordinators > 5 || servers < 1 || servers > 40) {
            throw new IllegalArgumentException("topology: 1-3 ZooKeeper members, 1-5 coordinators, 1-40 servers");
        }
        List<Node> zk = new ArrayList<>();
        for (int i = 1; i <= zookeepers; i++) {
            zk.add(node(Node.Role.ZOOKEEPER, "zk" + i, 1 + i, i));
        }
        List<Node> coord = new ArrayList<>();
        for (int i = 1; i <= coordinators; i++) {
            coord.add(node(Node.Role.COORDINATOR, "coordinator" + i, 1 + zookeepers + i, i));
        }
        List<Node> srv = new ArrayList<>();
        for (int i = 1; i <= servers; i++) {
            srv.add(node(Node.Role.SERVER, "server" + i, 10 + i, i));
        }
        return new Topology(List.copyOf(zk), List.copyOf(coord), List.copyOf(srv));
    }

    private static Node node(Node.Role role, String name, int lastByte, int ordinal) {
        return new Node(role, name, "127.0.0." + lastByte, 20_000 + lastByte, ordinal);
    }

    /** Every node, ZooKeeper first (the order they are started in). */
    public List<Node> all() {
        List<Node> all = new ArrayList<>(zookeepers);
        all.addAll(coordinators);
        all.addAll(servers);
        return all;
    }

    /** The ZooKeeper connect string. */
    public String zookeeperConnect() {
        return zookeepers.stream().map(Node::address).collect(Collectors.joining(","));
    }

    /** The coordinators' addresses, as the SDK takes them. */
    public String coordinatorAddresses() {
        return coordinators.stream().map(Node::address).collect(Collectors.joining(","));
    }

    /** The server listening at {@code address} ({@code host:port}), if it is one of ours. */
    public java.util.Optional<Node> serverAt(String address) {
        return servers.stream().filter(n -> n.address().equals(address)).findFirst();
    }
}
