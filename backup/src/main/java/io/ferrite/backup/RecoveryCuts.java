package io.ferrite.backup;

import io.ferrite.log.KeyRanges;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The parts of replicas cut for recovery partitions whose requests have not come yet: a
 * replica is read and walked once for all the partitions of a recovery (as RAMCloud's backups
 * build every recovery segment of a replica in one pass), and each part waits here until its
 * recovery master asks for it, which takes it away.
 *
 * <p>Bounded: parts are kept only within a budget of bytes (a part that does not fit is
 * dropped, and its request reads the replica again), and a part nobody took within
 * {@link #MAX_AGE_NS} is dropped. A request for a replica that another request is cutting
 * waits for that cut (for at most {@link #CLAIM_WAIT_NS}) rather than reading it a second time.
 * Thread-safe.
 */
final class RecoveryCuts {
    static final long MAX_AGE_NS = TimeUnit.MINUTES.toNanos(2);
    static final long CLAIM_WAIT_NS = TimeUnit.SECONDS.toNanos(30);

    private record ReplicaKey(long masterId, long segmentId, long epoch) {
    }

    private record Waiting(RecoveryFilter.Part part, int certifiedLength, long keptAtNs) {
    }

    private final long budgetBytes;
    private final LongSupplier nanoClock;
    private final Map<ReplicaKey, Map<KeyRanges, Waiting>> waiting = new HashMap<>();
    private final Map<ReplicaKey, Long> cutting = new HashMap<>();
    private long heldBytes;
    private long taken;
    private long dropped;

    RecoveryCuts(long budgetBytes, LongSupplier nanoClock) {
        this.budgetBytes = budgetBytes;
        this.nanoClock = nanoClock;
    }

    /**
     * The waiting part of a replica for these ranges, cut from a replica whose certified length
     * is still {@code certifiedLength}; or null, and then the caller holds the claim to cut the
     * replica itself and must {@link #keep} or {@link #release} it. Waits while another caller
     * cuts the same replica.
     */
    synchronized RecoveryFilter.Part takeOrClaim(long masterId, long segmentId, long epoch, KeyRanges ranges,
                                                 int certifiedLength) throws InterruptedException {
        ReplicaKey key = new ReplicaKey(masterId, segmentId, epoch);
        long deadline = nanoClock.getAsLong() + CLAIM_WAIT_NS;
        while (cutting.containsKey(key)) {
            long left = deadline - nanoClock.getAsLong();
            if (left <= 0) {
                return null; // the cutter is stuck: read it without a claim (keep/release are no-ops for us)
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        Map<KeyRanges, Waiting> parts = waiting.get(key);
        Waiting found = parts == null ? null : parts.remove(ranges);
        if (parts != null && parts.isEmpty()) {
            waiting.remove(key);
        }
        if (found != null) {
            heldBytes -= found.part().entries().length;
            if (found.certifiedLength() == certifiedLength) {
                taken++;
                return found.part();
            }
            dropped++;
        }
        cutting.put(key, Thread.currentThread().threadId());
        return null;
    }

    /** Keeps the other partitions' parts of a replica this caller cut (within the budget), and ends its claim. */
    synchronized void keep(long masterId, long segmentId, long epoch, int certifiedLength,
                           Map<KeyRanges, RecoveryFilter.Part> others) {
        ReplicaKey key = new ReplicaKey(masterId, segmentId, epoch);
        long now = nanoClock.getAsLong();
        expire(now);
        for (Map.Entry<KeyRanges, RecoveryFilter.Part> e : others.entrySet()) {
            long size = e.getValue().entries().length;
            if (heldBytes + size > budgetBytes) {
                dropped++;
                continue;
            }
            Waiting previous = waiting.computeIfAbsent(key, k -> new HashMap<>())
                    .put(e.getKey(), new Waiting(e.getValue(), certifiedLength, now));
            heldBytes += size - (previous == null ? 0 : previous.part().entries().length);
        }
        release(masterId, segmentId, epoch);
    }

    /** Ends this caller's claim on a replica without keeping anything (its cut failed). */
    synchronized void release(long masterId, long segmentId, long epoch) {
        ReplicaKey key = new ReplicaKey(masterId, segmentId, epoch);
        Long holder = cutting.get(key);
        if (holder != null && holder == Thread.currentThread().threadId()) {
            cutting.remove(key);
            notifyAll();
        }
    }

    /** Drops every part of a master's replicas (they are being freed). */
    synchronized void dropMaster(long masterId) {
        for (Iterator<Map.Entry<ReplicaKey, Map<KeyRanges, Waiting>>> it = waiting.entrySet().iterator();
             it.hasNext(); ) {
            Map.Entry<ReplicaKey, Map<KeyRanges, Waiting>> e = it.next();
            if (e.getKey().masterId() == masterId) {
                for (Waiting w : e.getValue().values()) {
                    heldBytes -= w.part().entries().length;
                    dropped++;
                }
                it.remove();
            }
        }
    }

    private void expire(long now) {
        for (Iterator<Map<KeyRanges, Waiting>> it = waiting.values().iterator(); it.hasNext(); ) {
            Map<KeyRanges, Waiting> parts = it.next();
            parts.values().removeIf(w -> {
                if (now - w.keptAtNs() > MAX_AGE_NS) {
                    heldBytes -= w.part().entries().length;
                    dropped++;
                    return true;
                }
                return false;
            });
            if (parts.isEmpty()) {
                it.remove();
            }
        }
    }

    /** Bytes of parts waiting, parts served from here, parts dropped unserved (budget, age, free). */
    synchronized long heldBytes() {
        return heldBytes;
    }

    synchronized long taken() {
        return taken;
    }

    synchronized long dropped() {
        return dropped;
    }
}
