package io.ferrite.chaos;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Injects one fault on the chaos cluster and knows how to heal it. Targets are chosen with the
 * run's seeded random from what the cluster reports at that moment (which server owns tablets,
 * which ZooKeeper member leads), so the same seed makes the same choices of kind and timing,
 * and of target as far as the cluster's state allows.
 */
final class FaultInjector {
    private static final Logger LOG = LoggerFactory.getLogger(FaultInjector.class);
    /** The combinations {@link FaultKind#COMBINED} picks from. */
    static final List<List<FaultKind>> COMBINATIONS = List.of(
            List.of(FaultKind.BACKUP_DISK_FULL, FaultKind.KILL_BACKUP),
            List.of(FaultKind.KILL_ZK_LEADER, FaultKind.KILL_MASTER),
            List.of(FaultKind.PARTITION_MASTER_ZK, FaultKind.KILL_COORDINATOR_LEADER),
            List.of(FaultKind.PAUSE_MASTER, FaultKind.KILL_BACKUP),
            List.of(FaultKind.PARTITION_CLIENT_MASTER_ONE_WAY, FaultKind.KILL_MASTER));

    /** The workload client, as partitions see it: root, listening nowhere. */
    private static final Node CLIENT = new Node(Node.Role.SERVER, "client", null, Topology.CLIENT_UID, 0);

    private final ChaosCluster cluster;
    private final ClusterView view;
    private final Partitions partitions;
    private final String table;

    FaultInjector(ChaosCluster cluster, ClusterView view, Partitions partitions, String table) {
        this.cluster = cluster;
        this.view = view;
        this.partitions = partitions;
        this.table = table;
    }

    /** A fault in place, and how to take it away. */
    interface Injected {
        /** What was done, for the log. */
        String description();

        /** Takes the fault away (restarts, SIGCONT, rules removed, space freed). */
        void heal() throws IOException;
    }

    /** Injects {@code kind}; {@code busy} collects nodes already hit, so a combination picks distinct ones. */
    Injected inject(FaultKind kind, Random random) throws IOException {
        return inject(kind, random, new HashSet<>());
    }

    private Injected inject(FaultKind kind, Random random, Set<Node> busy) throws IOException {
        Topology topology = cluster.topology();
        switch (kind) {
            case KILL_MASTER -> {
                return kill(master(random, busy), "kill -9 of master ");
            }
            case KILL_BACKUP -> {
                return kill(backup(random, busy), "kill -9 of backup ");
            }
            case KILL_COORDINATOR_LEADER -> {
                Node leader = view.coordinatorLeader().filter(n -> !busy.contains(n))
                        .orElseGet(() -> pick(topology.coordinators(), random, busy));
                busy.add(leader);
                return kill(leader, "kill -9 of the coordinator leader ");
            }
            case KILL_ZK_LEADER, KILL_ZK_FOLLOWER -> {
                String mode = kind == FaultKind.KILL_ZK_LEADER ? "leader" : "follower";
                List<Node> matching = topology.zookeepers().stream()
                        .filter(z -> view.zookeeperMode(z).map(mode::equals).orElse(false)).toList();
                Node target = matching.isEmpty() ? pick(topology.zookeepers(), random, busy) : pick(matching, random, busy);
                busy.add(target);
                return kill(target, "kill -9 of ZooKeeper " + (matching.isEmpty() ? "member (no " + mode + " answered) "
                        : mode + " "));
            }
            case PAUSE_MASTER -> {
                Node master = master(random, busy);
                cluster.pause(master);
                return injected("SIGSTOP of master " + master, () -> {
                    cluster.resume(master);
                });
            }
            case PARTITION_MASTER_ZK -> {
                Node master = master(random, busy);
                for (Node zk : topology.zookeepers()) {
                    partitions.cut(master, zk, true);
                }
                return injected("master " + master + " cut from ZooKeeper", partitions::heal);
            }
            case PARTITION_MASTER_BACKUPS, PARTITION_MASTER_BACKUPS_ONE_WAY -> {
                Node master = master(random, busy);
                boolean bothWays = kind == FaultKind.PARTITION_MASTER_BACKUPS;
                for (Node other : topology.servers()) {
                    if (!other.equals(master)) {
                        partitions.cut(master, other, bothWays);
                    }
                }
                return injected("master " + master + " cut from the other servers" + (bothWays ? "" : " (its packets only)"),
                        partitions::heal);
            }
            case PARTITION_CLIENT_MASTER, PARTITION_CLIENT_MASTER_ONE_WAY -> {
                Node master = master(random, busy);
                boolean bothWays = kind == FaultKind.PARTITION_CLIENT_MASTER;
                if (bothWays) {
                    partitions.cut(master, CLIENT, true);
                } else {
                    partitions.drop(master.uid(), CLIENT.uid(), null);
                }
                return injected("client cut from master " + master + (bothWays ? "" : " (its answers only)"),
                        partitions::heal);
            }
            case BACKUP_DISK_FULL -> {
                Node small = topology.servers().getLast();
                busy.add(small);
                ChaosCluster.ExecResult fill = cluster.exec(small, "sh", "-c", "dd if=/dev/zero of="
                        + ChaosCluster.SMALL_DISK_DIR + "/chaos-fill bs=1M 2>&1 | tail -1; df -k "
                        + ChaosCluster.SMALL_DISK_DIR + " | tail -1");
                String df = fill.output().strip().replace('\n', ' ');
                if (!df.contains("100%")) {
                    throw new IOException("the disk of " + small + " did not fill: " + df);
                }
                return injected("disk of backup " + small + " filled: " + df,
                        () -> {
                            if (cluster.isRunning(small)) {
                                cluster.exec(small, "rm", "-f", ChaosCluster.SMALL_DISK_DIR + "/chaos-fill");
                            }
                        });
            }
            case COMBINED -> {
                List<FaultKind> pair = COMBINATIONS.get(random.nextInt(COMBINATIONS.size()));
                List<Injected> parts = new ArrayList<>();
                for (FaultKind part : pair) {
                    parts.add(inject(part, random, busy));
                }
                return injected(String.join(" + ", parts.stream().map(Injected::description).toList()), () -> {
                    IOException failure = null;
                    for (Injected part : parts.reversed()) {
                        try {
                            part.heal();
                        } catch (IOException e) {
                            failure = e;
                        }
                    }
                    if (failure != null) {
                        throw failure;
                    }
                });
            }
            default -> throw new IllegalArgumentException("unknown fault " + kind);
        }
    }

    private Injected kill(Node node, String what) {
        cluster.kill(node);
        return injected(what + node, () -> cluster.restart(node));
    }

    /** A server owning tablets of the table (seeded choice among the owners), else any server. */
    private Node master(Random random, Set<Node> busy) {
        List<Node> owners = owners().keySet().stream().filter(n -> !busy.contains(n) && running(n))
                .sorted(Comparator.comparing(Node::name)).toList();
        Node chosen = owners.isEmpty() ? pick(cluster.topology().servers(), random, busy) : owners.get(random.nextInt(owners.size()));
        busy.add(chosen);
        return chosen;
    }

    /** The running server owning the fewest of the table's tablets. */
    private Node backup(Random random, Set<Node> busy) {
        Map<Node, Integer> owners = owners();
        List<Node> candidates = cluster.topology().servers().stream().filter(n -> !busy.contains(n) && running(n))
                .toList();
        if (candidates.isEmpty()) {
            candidates = cluster.topology().servers();
        }
        int fewest = candidates.stream().mapToInt(n -> owners.getOrDefault(n, 0)).min().orElse(0);
        List<Node> least = candidates.stream().filter(n -> owners.getOrDefault(n, 0) == fewest).toList();
        Node chosen = least.get(random.nextInt(least.size()));
        busy.add(chosen);
        return chosen;
    }

    private Map<Node, Integer> owners() {
        try {
            return view.owners(table);
        } catch (RuntimeException e) {
            LOG.info("tablet owners unknown ({}): choosing a server at random", e.getMessage());
            return Map.of();
        }
    }

    private boolean running(Node node) {
        try {
            return cluster.isRunning(node);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static Node pick(List<Node> nodes, Random random, Set<Node> busy) {
        List<Node> free = nodes.stream().filter(n -> !busy.contains(n)).toList();
        List<Node> from = free.isEmpty() ? nodes : free;
        return from.get(random.nextInt(from.size()));
    }

    private interface Heal {
        void run() throws IOException;
    }

    private static Injected injected(String description, Heal heal) {
        LOG.info("fault: {}", description);
        return new Injected() {
            @Override
            public String description() {
                return description;
            }

            @Override
            public void heal() throws IOException {
                heal.run();
            }
        };
    }
}
