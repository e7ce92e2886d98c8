package io.ferrite.chaos;

import io.ferrite.client.ClusterStatus;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.ServerInfo;
import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.GetTabletMapRequest;
import io.ferrite.proto.v1.Tablet;
import io.ferrite.proto.v1.TabletState;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * What the fault injector asks the cluster: who leads the coordinators and the ZooKeeper
 * ensemble, which servers own the workload table's tablets, and whether the cluster has settled
 * (every running server UP, nothing recovering, every tablet served by an UP owner).
 */
public final class ClusterView implements AutoCloseable {
    private final Topology topology;
    private final FerriteClient admin;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    public ClusterView(Topology topology, FerriteClient admin) {
        this.topology = topology;
        this.admin = admin;
    }

    /** The coordinator leading now, if one answers and names it. */
    public Optional<Node> coordinatorLeader() {
        try {
            String leader = admin.clusterStatus().leader();
            return topology.coordinators().stream().filter(c -> c.address().equals(leader)).findFirst();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** ZooKeeper's own word on a member's mode ({@code leader}, {@code follower}, ...), empty if it does not answer. */
    public Optional<String> zookeeperMode(Node member) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(member.host(), Node.ZK_CLIENT_PORT), 1000);
            socket.setSoTimeout(2000);
            OutputStream out = socket.getOutputStream();
            out.write("srvr".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return answer.lines().filter(l -> l.startsWith("Mode: ")).map(l -> l.substring(6).strip()).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The servers owning tablets of {@code table}, with how many tablets each. */
    public Map<Node, Integer> owners(String table) {
        Map<Node, Integer> owners = new HashMap<>();
        for (Tablet t : tablets(table)) {
            topology.serverAt(t.getOwnerAddress()).ifPresent(n -> owners.merge(n, 1, Integer::sum));
        }
        return owners;
    }

    private List<Tablet> tablets(String table) {
        RuntimeException last = new IllegalStateException("no coordinator to ask");
        for (Node coordinator : topology.coordinators()) {
            try {
                return CoordinatorServiceGrpc.newBlockingStub(channel(coordinator.address()))
                        .withDeadlineAfter(3, TimeUnit.SECONDS)
                        .getTabletMap(GetTabletMapRequest.newBuilder().setName(table).build()).getTabletsList();
            } catch (RuntimeException e) {
                last = e;
            }
        }
        throw last;
    }

    /**
     * Why the cluster has not settled yet, or empty when it has: every server in
     * {@code running} is UP at its address, no recovery is going on, and every tablet of
     * {@code table} is NORMAL and owned by an UP server.
     */
    public Optional<String> unsettled(String table, List<Node> running) {
        try {
            ClusterStatus status = admin.clusterStatus();
            if (status.tabletsRecovering() > 0 || !status.recoveries().isEmpty()) {
                return Optional.of(status.recoveries().size() + " recoveries, " + status.tabletsRecovering()
                        + " tablets recovering");
            }
            Map<String, ServerInfo> newest = new HashMap<>();
            for (ServerInfo s : admin.servers()) {
                newest.merge(s.address(), s, (a, b) -> a.id() > b.id() ? a : b);
            }
            for (Node node : running) {
                ServerInfo info = newest.get(node.address());
                if (info == null || !info.status().equals("UP")) {
                    return Optional.of(node + " is " + (info == null ? "not registered" : info.status()));
                }
            }
            for (Tablet t : tablets(table)) {
                ServerInfo owner = newest.get(t.getOwnerAddress());
                if (t.getState() != TabletState.NORMAL || owner == null || owner.id() != t.getOwnerId()
                        || !owner.status().equals("UP")) {
                    return Optional.of("tablet [" + Long.toUnsignedString(t.getStartHash(), 16) + "…] is "
                            + t.getState() + " on " + t.getOwnerAddress());
                }
            }
            return Optional.empty();
        } catch (RuntimeException e) {
            return Optional.of("the cluster does not answer: " + e.getMessage());
        }
    }

    private ManagedChannel channel(String address) {
        return channels.computeIfAbsent(address, a -> NettyChannelBuilder.forTarget(a).usePlaintext().build());
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
