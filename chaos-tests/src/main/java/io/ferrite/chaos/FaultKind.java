package io.ferrite.chaos;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** The faults a chaos run injects, by the names {@code --faults} takes. */
public enum FaultKind {
    /** {@code kill -9} of a server owning tablets of the workload table; restarted at the heal. */
    KILL_MASTER("kill-master"),
    /** {@code kill -9} of the server owning the fewest of the table's tablets (a backup of the others). */
    KILL_BACKUP("kill-backup"),
    /** {@code kill -9} of the leading coordinator. */
    KILL_COORDINATOR_LEADER("kill-coordinator-leader"),
    /** {@code kill -9} of a ZooKeeper follower. */
    KILL_ZK_FOLLOWER("kill-zk-follower"),
    /** {@code kill -9} of the ZooKeeper leader. */
    KILL_ZK_LEADER("kill-zk-leader"),
    /** SIGSTOP of a master for longer than its lease, then SIGCONT. */
    PAUSE_MASTER("pause-master"),
    /** A master cut from every ZooKeeper member, both ways (at times longer than its session). */
    PARTITION_MASTER_ZK("partition-master-zk"),
    /** A master cut from every other server (its backups), both ways. */
    PARTITION_MASTER_BACKUPS("partition-master-backups"),
    /** A master's packets to every other server dropped; theirs still reach it. */
    PARTITION_MASTER_BACKUPS_ONE_WAY("partition-master-backups-one-way"),
    /** The workload client cut from a master, both ways. */
    PARTITION_CLIENT_MASTER("partition-client-master"),
    /** A master's answers to the client dropped; its requests still arrive (writes apply, answers are lost). */
    PARTITION_CLIENT_MASTER_ONE_WAY("partition-client-master-one-way"),
    /** The disk a backup keeps replicas on fills up. */
    BACKUP_DISK_FULL("backup-disk-full"),
    /** Two of the others at once, as production combines them. */
    COMBINED("combined");

    private final String id;

    FaultKind(String id) {
        this.id = id;
    }

    /** The name used on the command line and in JSON. */
    public String id() {
        return id;
    }

    /** The kind named {@code id}. */
    public static FaultKind of(String id) {
        for (FaultKind k : values()) {
            if (k.id.equals(id)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown fault '" + id + "'; known: " + names());
    }

    /** Parses a comma-separated list; {@code all} means every kind. */
    public static List<FaultKind> parse(String list) {
        if (list.strip().equals("all")) {
            return List.of(values());
        }
        return Arrays.stream(list.split(",")).map(String::strip).filter(s -> !s.isEmpty()).map(FaultKind::of)
                .distinct().toList();
    }

    /** Every name, comma-separated. */
    public static String names() {
        return Arrays.stream(values()).map(FaultKind::id).collect(Collectors.joining(","));
    }
}
