package io.ferrite.master.replication;

import io.ferrite.master.log.LogSegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Replication state of one segment of the log: its replicas, what they must hold (the
 * certificate), and the writers (and readers) waiting for its bytes. Owned by the agent's thread.
 *
 * <p>{@code source} is the in-memory copy of the segment that the certificate describes. The
 * cleaner may compact a closed segment (same id, new bytes, new certificate): then replicas not
 * yet complete are started over from the new copy, under a new epoch, so a replica's certified
 * content is always one copy's bytes, never a mix (invariant I3).
 */
final class SegmentReplicas {
    /** A writer or reader waiting until the segment is durable up to {@code length}. */
    record Waiter(long segmentId, int length, CompletableFuture<Void> future) {
    }

    final long segmentId;
    final int capacity;
    /** Position in the log's order of segment openings (1, 2, ...). */
    final long order;
    final PriorityQueue<Waiter> waiters = new PriorityQueue<>(Comparator.comparingInt(Waiter::length));
    final List<Replica> replicas = new ArrayList<>();
    final Set<Long> excluded = new HashSet<>();
    LogSegment source;
    int certifiedLength;
    int certifiedChecksum;
    boolean closed;
    /** Complete on all replicas: nothing to send until a replica is lost. */
    boolean done;
    long nextEpoch = 1;
    /**
     * For a head: the first certified length seen, which covers its header and log digest; 0 for
     * a cleaner's survivor (which never carries the newest digest).
     */
    int digestLength;
    /** For a segment the cleaner freed: the order of the newest head opened by then, whose digest omits it. */
    long freeAfterDigestOrder;
    /** After an unexpected fault, when this segment may be tried again. */
    long retryAfterNs;
    long faultBackoffNs;

    SegmentReplicas(long segmentId, int capacity, long order) {
        this.segmentId = segmentId;
        this.capacity = capacity;
        this.order = order;
    }

    /** The length every replica has certified (I1); 0 while fewer than {@code factor} replicas exist. */
    int durableLength(int factor) {
        if (replicas.size() < factor) {
            return 0;
        }
        int min = Integer.MAX_VALUE;
        for (int i = 0; i < replicas.size(); i++) {
            Replica r = replicas.get(i);
            min = Math.min(min, r.openAcked ? r.certifiedLength : 0);
        }
        return min;
    }

    boolean openOnAll(int factor) {
        if (replicas.size() < factor) {
            return false;
        }
        for (int i = 0; i < replicas.size(); i++) {
            if (!replicas.get(i).openAcked) {
                return false;
            }
        }
        return true;
    }

    boolean complete(int factor) {
        if (!closed || replicas.size() < factor) {
            return false;
        }
        for (int i = 0; i < replicas.size(); i++) {
            if (!replicas.get(i).closeAcked) {
                return false;
            }
        }
        return true;
    }

    Replica find(long backupId, long epoch) {
        for (int i = 0; i < replicas.size(); i++) {
            Replica r = replicas.get(i);
            if (r.backupId() == backupId && r.epoch == epoch) {
                return r;
            }
        }
        return null;
    }
}
