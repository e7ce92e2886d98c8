package io.ferrite.master.replication;

import io.ferrite.master.log.MasterLog;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Who waits for which log bytes, and what readers may check without asking: the replication
 * agent's durability bookkeeping (I1, I4).
 *
 * <p>Writers (and readers whose answer reveals a recent entry) call {@link #whenDurable}: the
 * future completes on the agent's thread once every one of R replicas certified the bytes and
 * every earlier segment of the log is complete. Readers first call {@link #isDurable}, three
 * volatile reads and a compare: the agent publishes ({@link #publish}) the count of segment
 * closes at which every closed segment was complete and exactly one segment, the head, was
 * open, with the head's id and certified length packed in one long. While that count is
 * unchanged the head is the same and every other segment an entry can be read from is
 * complete; a close (counted by the log's thread) or a lost replica ({@link #regressed})
 * invalidates it at once, so the check errs only towards "not yet".
 *
 * <p>Thread use: {@link #whenDurable}, {@link #isDurable}, {@link #replicated},
 * {@link #segmentOpened} and {@link #segmentClosed} from any thread; the rest on the agent's.
 */
final class DurabilityTracker {
    /** A head mark packs a segment id above a 24-bit length. */
    private static final int MARK_LENGTH_BITS = 24;
    private static final long MARK_LENGTH_MASK = (1L << MARK_LENGTH_BITS) - 1;

    private final int factor;
    private final ConcurrentLinkedQueue<SegmentReplicas.Waiter> newWaiters = new ConcurrentLinkedQueue<>();
    /** Segments closed so far (incremented by the log's thread after queueing the close). */
    private final AtomicLong closedCount = new AtomicLong();
    /** Closed segments complete on all of their replicas (the cleaner takes only these). */
    private final ConcurrentHashMap<Long, Boolean> complete = new ConcurrentHashMap<>();
    /** The closed count at which every closed segment was complete; -1 if one is not. */
    private volatile long completeAtClosedCount = -1;
    /** The head's id and durable length (packed), valid with {@link #completeAtClosedCount}. */
    private volatile long headMark;
    private boolean markUsable;

    // ---- the agent's thread only ----
    /** Waiters not yet on their segment's queue (its Opened command not applied yet, or it left the log). */
    private final List<SegmentReplicas.Waiter> unplaced = new ArrayList<>();
    private int waiterCount;
    private long stallNs;
    private long stallSinceNs;

    DurabilityTracker(int factor) {
        this.factor = factor;
    }

    /** Whether lengths of segments of this capacity fit the head mark (else readers always wait). */
    void segmentCapacity(int capacityBytes) {
        markUsable = capacityBytes <= MARK_LENGTH_MASK;
    }

    // ---- any thread ----

    void segmentOpened(long segmentId) {
        complete.remove(segmentId);
    }

    /** Counts a close; called after the close is queued for the agent. */
    void segmentClosed() {
        closedCount.incrementAndGet();
    }

    /** The closed count now: read by the agent at the start of a cycle, before it drains its commands. */
    long closedCount() {
        return closedCount.get();
    }

    boolean replicated(long segmentId) {
        return complete.containsKey(segmentId);
    }

    CompletableFuture<Void> whenDurable(long segmentId, int length) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        newWaiters.add(new SegmentReplicas.Waiter(segmentId, length, future));
        return future;
    }

    boolean hasNewWaiters() {
        return !newWaiters.isEmpty();
    }

    /** See {@link ReplicaManager#isDurable}. */
    boolean isDurable(long segmentId, int length) {
        long at = completeAtClosedCount;
        long mark = headMark;
        if (at < 0 || at != closedCount.get()) {
            return false; // a segment closed since every closed one was last seen complete
        }
        // No segment closed since that cycle: the head then is the head now, and every other
        // segment an entry can be read from is closed, hence complete (a segment the cleaner
        // freed meanwhile is complete too, its data in survivors that close before it is freed).
        if (mark >>> MARK_LENGTH_BITS == segmentId) {
            return length <= (mark & MARK_LENGTH_MASK);
        }
        return true;
    }

    // ---- the agent's thread ----

    /** Takes the waiters queued since the last cycle; returns how many. */
    int drainNewWaiters() {
        int drained = 0;
        SegmentReplicas.Waiter waiter;
        while ((waiter = newWaiters.poll()) != null) {
            unplaced.add(waiter);
            waiterCount++;
            drained++;
        }
        return drained;
    }

    /** {@code t} is complete on all of its replicas. */
    void completed(SegmentReplicas t) {
        complete.putIfAbsent(t.segmentId, Boolean.TRUE);
        t.done = true;
    }

    /** A replica of {@code t} holds less than before (lost, or restarted): readers must check again. */
    void regressed(SegmentReplicas t) {
        complete.remove(t.segmentId);
        t.done = false;
        if (t.closed) {
            completeAtClosedCount = -1;
        } else {
            headMark = 0;
        }
    }

    /** {@code t} left the log (cleaned): its waiters complete once placed (its data is in survivors). */
    void freed(SegmentReplicas t) {
        complete.remove(t.segmentId);
        unplaced.addAll(t.waiters);
        t.waiters.clear();
    }

    /**
     * Completes the waiters whose bytes are durable, walking the segments in log order. Each
     * segment keeps its waiters ordered by length, so a cycle costs a look at each segment's
     * shortest waiter plus the waiters it completes, however many wait.
     *
     * @return waiters completed
     */
    int completeWaiters(Collection<SegmentReplicas> inLogOrder, java.util.Map<Long, SegmentReplicas> byId,
                        MasterLog log, long nowNs) {
        if (waiterCount == 0) {
            endStall(nowNs);
            return 0;
        }
        int done = placeWaiters(byId, log);
        boolean stalled = false;
        boolean earlierComplete = true; // every segment before the first incomplete one is complete
        for (SegmentReplicas t : inLogOrder) {
            if (earlierComplete && !t.waiters.isEmpty()) {
                int durable = t.durableLength(factor);
                while (!t.waiters.isEmpty() && t.waiters.peek().length() <= durable) {
                    complete(t.waiters.poll());
                    done++;
                }
            }
            earlierComplete &= t.done || t.complete(factor);
            stalled |= t.replicas.size() < factor;
        }
        if (stalled && waiterCount > 0) {
            if (stallSinceNs == 0) {
                stallSinceNs = nowNs;
            }
        } else {
            endStall(nowNs);
        }
        return done;
    }

    private int placeWaiters(java.util.Map<Long, SegmentReplicas> byId, MasterLog log) {
        int done = 0;
        Iterator<SegmentReplicas.Waiter> it = unplaced.iterator();
        while (it.hasNext()) {
            SegmentReplicas.Waiter w = it.next();
            SegmentReplicas t = byId.get(w.segmentId());
            if (t != null) {
                t.waiters.add(w);
                it.remove();
            } else if (!log.containsSegment(w.segmentId())) {
                // The cleaner freed the segment: its live data is in survivors replicated before the free.
                it.remove();
                complete(w);
                done++;
            }
            // else: its Opened command is still queued; placed next cycle
        }
        return done;
    }

    private void endStall(long nowNs) {
        if (stallSinceNs != 0) {
            stallNs += nowNs - stallSinceNs;
            stallSinceNs = 0;
        }
    }

    private void complete(SegmentReplicas.Waiter w) {
        waiterCount--;
        w.future().complete(null);
    }

    /**
     * Publishes what readers check without asking the agent: the closed count at which every
     * closed segment is complete (seen at the start of this cycle), and the head's durable length.
     */
    void publish(Collection<SegmentReplicas> inLogOrder, long closedSeen) {
        boolean closedComplete = true;
        SegmentReplicas head = null;
        int open = 0;
        for (SegmentReplicas t : inLogOrder) {
            if (t.closed) {
                closedComplete &= t.done;
            } else {
                head = t;
                open++;
            }
        }
        if (!closedComplete || open != 1 || !markUsable) {
            // (Two open segments: a new head whose predecessor's close is not queued yet.)
            completeAtClosedCount = -1; // readers wait on whenDurable
            return;
        }
        headMark = head.segmentId << MARK_LENGTH_BITS | head.durableLength(factor);
        completeAtClosedCount = closedSeen;
    }

    /** Time writes waited with fewer than R replicas placed, up to {@code nowNs}. */
    long stallNs(long nowNs) {
        return stallNs + (stallSinceNs != 0 ? nowNs - stallSinceNs : 0);
    }

    int waiters() {
        return waiterCount;
    }

    int unplaced() {
        return unplaced.size();
    }

    /** Fails every waiter still queued or unplaced, and those given (replication stops). */
    void failAll(List<SegmentReplicas.Waiter> others) {
        List<SegmentReplicas.Waiter> left = new ArrayList<>(unplaced);
        left.addAll(others);
        SegmentReplicas.Waiter w;
        while ((w = newWaiters.poll()) != null) {
            left.add(w);
        }
        for (SegmentReplicas.Waiter waiter : left) {
            waiter.future().completeExceptionally(new IllegalStateException("replication stopped"));
        }
    }
}
