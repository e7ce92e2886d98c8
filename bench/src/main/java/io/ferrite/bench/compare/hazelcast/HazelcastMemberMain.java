package io.ferrite.bench.compare.hazelcast;

import com.hazelcast.config.Config;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.LocalMapStats;
import com.hazelcast.spi.properties.ClusterProperty;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One Hazelcast member, run as its own JVM by {@link HazelcastPeer}:
 * {@code HazelcastMemberMain <cluster> <port> <member,member,...>}. The member binds
 * 127.0.0.1:port, joins the listed members over TCP-IP (no multicast, no auto-detection), keeps
 * {@value #MAP_NAME} (and every other map) in BINARY form with one synchronous backup, and runs
 * no Jet engine and no phone-home. It then speaks {@link MemberProtocol} on stdin/stdout; EOF on
 * stdin ends it, so members never outlive the process that started them.
 */
public final class HazelcastMemberMain {
    /** The map YCSB writes (its default table name). */
    public static final String MAP_NAME = "usertable";
    /** Synchronous backups of every map entry. */
    public static final int BACKUP_COUNT = 1;
    /** How the members store values: serialized bytes. */
    public static final InMemoryFormat IN_MEMORY_FORMAT = InMemoryFormat.BINARY;

    private static final long JOIN_TIMEOUT_MS = 60_000;
    private static final long JOIN_POLL_MS = 50;

    /** Held so the WARNING level set on it is not lost when the logger is collected. */
    private static final Logger HAZELCAST_LOGGER = Logger.getLogger("com.hazelcast");

    private HazelcastMemberMain() {
    }

    /**
     * Starts the member and serves {@link MemberProtocol} until {@code exit} or EOF.
     *
     * @param args cluster name, this member's port, the comma-separated member addresses
     */
    public static void main(String[] args) throws IOException, InterruptedException {
        // Only protocol lines go to the real stdout; whatever else prints there lands in the log.
        PrintStream protocol = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        if (args.length != 3) {
            System.err.println("usage: HazelcastMemberMain <cluster> <port> <host:port,host:port,...>");
            System.exit(2);
        }
        String self = "127.0.0.1:" + args[1];
        List<String> members = List.of(args[2].split(","));
        System.setProperty(ClusterProperty.LOGGING_TYPE.getName(), "jdk");
        HAZELCAST_LOGGER.setLevel(Level.WARNING);

        HazelcastInstance member;
        try {
            member = Hazelcast.newHazelcastInstance(config(args[0], Integer.parseInt(args[1]), members));
        } catch (RuntimeException e) {
            e.printStackTrace();
            // The last line of the log, which the peer quotes: the causes without their traces.
            StringBuilder causes = new StringBuilder();
            for (Throwable t = e; t != null; t = t.getCause()) {
                causes.append(causes.isEmpty() ? "" : " <- ").append(t);
            }
            System.err.println("member " + self + " could not start: " + causes);
            System.exit(1);
            return;
        }
        if (!members.getFirst().equals(self) && !awaitJoined(member)) {
            System.err.println("member " + self + " did not join any of " + members + " within "
                    + JOIN_TIMEOUT_MS + " ms");
            member.getLifecycleService().terminate();
            System.exit(1);
        }
        protocol.println(MemberProtocol.READY + self);
        serve(member, new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), protocol);
        member.getLifecycleService().terminate();
        System.exit(0);
    }

    /** The member's configuration: everything in code, nothing read from files. */
    static Config config(String cluster, int port, List<String> members) {
        Config config = new Config();
        config.setClusterName(cluster);
        config.setProperty(ClusterProperty.LOGGING_TYPE.getName(), "jdk");
        config.setProperty(ClusterProperty.PHONE_HOME_ENABLED.getName(), "false");
        config.setProperty(ClusterProperty.SOCKET_BIND_ANY.getName(), "false");
        config.getJetConfig().setEnabled(false);

        NetworkConfig network = config.getNetworkConfig();
        network.setPort(port).setPortAutoIncrement(false);
        network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).setMembers(members);

        config.addMapConfig(mapConfig(MAP_NAME));
        config.addMapConfig(mapConfig("*"));
        return config;
    }

    private static MapConfig mapConfig(String name) {
        return new MapConfig(name)
                .setBackupCount(BACKUP_COUNT)
                .setAsyncBackupCount(0)
                .setInMemoryFormat(IN_MEMORY_FORMAT);
    }

    /** Whether the member sees another member before the deadline (a lone member would be a split cluster). */
    private static boolean awaitJoined(HazelcastInstance member) throws InterruptedException {
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_TIMEOUT_MS);
        while (member.getCluster().getMembers().size() < 2) {
            if (System.nanoTime() - deadlineNs > 0) {
                return false;
            }
            Thread.sleep(JOIN_POLL_MS);
        }
        return true;
    }

    private static void serve(HazelcastInstance member, BufferedReader commands, PrintStream protocol)
            throws IOException {
        for (String line = commands.readLine(); line != null; line = commands.readLine()) {
            String command = line.strip();
            switch (command) {
                case MemberProtocol.STATS -> protocol.println(stats(member).toLine());
                case MemberProtocol.SAFE -> protocol.println(MemberProtocol.SAFE_REPLY
                        + member.getPartitionService().isClusterSafe());
                case MemberProtocol.MEMBERS -> protocol.println(MemberProtocol.MEMBERS_REPLY
                        + member.getCluster().getMembers().size());
                case MemberProtocol.EXIT -> {
                    return;
                }
                default -> protocol.println(MemberProtocol.ERROR_REPLY + "unknown command '" + command + "'");
            }
        }
    }

    private static MemberStats stats(HazelcastInstance member) {
        System.gc();
        System.gc();
        long heapUsed = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        LocalMapStats map = member.getMap(MAP_NAME).getLocalMapStats();
        return new MemberStats(heapUsed, map.getOwnedEntryCount(), map.getOwnedEntryMemoryCost(),
                map.getBackupEntryCount(), map.getBackupEntryMemoryCost());
    }
}
