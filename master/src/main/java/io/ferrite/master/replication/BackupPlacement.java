package io.ferrite.master.replication;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Where a new replica goes: never this master, never a backup already holding the segment (or
 * excluded for it after a failure); other failure domains first (this master's own included,
 * so a rack that loses the master does not take its copies too), then backups that have not
 * recently refused a replica for lack of room, then the least loaded. Owned by the agent's thread.
 */
final class BackupPlacement {
    /**
     * How long a backup that refused a replica for lack of room (no buffer free, no space, an
     * I/O error) is passed over when placing new replicas, unless no other backup is available.
     */
    static final long REFUSING_BACKUP_PAUSE_NS = TimeUnit.SECONDS.toNanos(5);
    private static final int OTHER_DOMAIN_FIRST = 1_000_000;
    private static final int ROOM_FIRST = 10_000;

    private final LongSupplier selfId;
    private final Supplier<List<ReplicaManager.Backup>> liveBackups;
    private final Supplier<String> selfFailureDomain;
    /** Replicas placed on each backup and not yet freed or dropped. */
    private final Map<Long, Integer> load = new HashMap<>();
    /** Backups that refused a replica for lack of room, and until when they are passed over. */
    private final Map<Long, Long> refusingUntilNs = new HashMap<>();

    BackupPlacement(LongSupplier selfId, Supplier<List<ReplicaManager.Backup>> liveBackups,
                    Supplier<String> selfFailureDomain) {
        this.selfId = selfId;
        this.liveBackups = liveBackups;
        this.selfFailureDomain = selfFailureDomain;
    }

    /** The best live backup for one more replica of {@code t}, or null if none is left. */
    ReplicaManager.Backup choose(SegmentReplicas t, long nowNs) {
        Set<Long> taken = new HashSet<>();
        Set<String> domains = new HashSet<>();
        String selfDomain = selfFailureDomain.get();
        if (!selfDomain.isEmpty()) {
            domains.add(selfDomain);
        }
        for (Replica r : t.replicas) {
            taken.add(r.backupId());
            if (!r.backup.failureDomain().isEmpty()) {
                domains.add(r.backup.failureDomain());
            }
        }
        long self = selfId.getAsLong();
        ReplicaManager.Backup best = null;
        int bestScore = Integer.MAX_VALUE;
        for (ReplicaManager.Backup b : liveBackups.get()) {
            if (b.serverId() == self || taken.contains(b.serverId()) || t.excluded.contains(b.serverId())) {
                continue;
            }
            Long refusing = refusingUntilNs.get(b.serverId());
            int score = (domains.contains(b.failureDomain()) ? OTHER_DOMAIN_FIRST : 0)
                    + (refusing != null && nowNs < refusing ? ROOM_FIRST : 0) + load.getOrDefault(b.serverId(), 0);
            if (score < bestScore) {
                best = b;
                bestScore = score;
            }
        }
        return best;
    }

    void placed(long backupId) {
        load.merge(backupId, 1, Integer::sum);
    }

    void released(long backupId) {
        load.merge(backupId, -1, Integer::sum);
    }

    /**
     * The backup refused a replica for lack of room: passed over for a while.
     *
     * @return true if this starts a new episode (worth a log line)
     */
    boolean refusedForRoom(long backupId, long nowNs) {
        Long until = refusingUntilNs.put(backupId, nowNs + REFUSING_BACKUP_PAUSE_NS);
        return until == null || nowNs >= until;
    }

    /** The live backups now (one read of the cluster view). */
    List<ReplicaManager.Backup> live() {
        return liveBackups.get();
    }
}
