package io.ferrite.master.log;

import io.ferrite.log.SegmentCertificate;
import io.ferrite.log.SegmentWriter;
import io.ferrite.master.epoch.EpochManager;
import io.ferrite.master.memory.SegletPool;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A master's log: a sequence of segments over the seglet pool, the newest of which is the
 * head. Everything written goes to the head under the {@linkplain #lock() append lock}; every
 * new head begins with a segment header, the log digest (ids of all segments), table
 * statistics and the safe version, so the log can be rebuilt from replicas alone.
 *
 * <p>A log reference names an entry by the pool address of its first byte:
 * {@code seglet index << 16 | offset in seglet}. {@link #segmentOf} and {@link #offsetOf}
 * turn it back into a segment and a logical offset.
 *
 * <p>Memory floors keep cleaning possible when memory is full: writes to the head stop while
 * no more than {@code writerFloorSeglets} seglets are free (the caller gets a retry status);
 * cleaner survivors may use all but {@code survivorFloorSeglets}; the head roll that commits a
 * cleaning pass may use the rest.
 */
public final class MasterLog {
    /** Appends the head's metadata after the digest (table stats, safe version). */
    public interface HeadMetadata {
        /** @return false if the writer ran out of memory */
        boolean append(SegmentWriter writer);
    }

    private final SegletPool pool;
    private final EpochManager epochs;
    private final ReplicationHook replication;
    private final long logId;
    private final int segmentCapacityBytes;
    private final int writerFloorSeglets;
    private final int survivorFloorSeglets;
    private final LogSegment[] segletOwner;
    private final int[] segletPosition;
    private final ConcurrentHashMap<Long, LogSegment> segments = new ConcurrentHashMap<>();
    private final ReentrantLock appendLock = new ReentrantLock();
    private final ReentrantLock memoryLock = new ReentrantLock();
    private final Condition memoryFreed = memoryLock.newCondition();
    private volatile Runnable onLowMemory = () -> { };
    private final int lowMemorySeglets;
    private HeadMetadata headMetadata = writer -> true;
    private LogSegment head;
    private final java.util.concurrent.atomic.AtomicLong nextSegmentId = new java.util.concurrent.atomic.AtomicLong(1);
    private volatile long appendedBytes;

    public MasterLog(SegletPool pool, EpochManager epochs, ReplicationHook replication, long logId,
                     int segmentCapacityBytes, int writerFloorSeglets, int survivorFloorSeglets, int lowMemorySeglets) {
        if (survivorFloorSeglets >= writerFloorSeglets) {
            throw new IllegalArgumentException("survivor floor (" + survivorFloorSeglets
                    + ") must be below the writer floor (" + writerFloorSeglets + ")");
        }
        this.pool = pool;
        this.epochs = epochs;
        this.replication = replication;
        this.logId = logId;
        this.segmentCapacityBytes = segmentCapacityBytes;
        this.writerFloorSeglets = writerFloorSeglets;
        this.survivorFloorSeglets = survivorFloorSeglets;
        this.lowMemorySeglets = lowMemorySeglets;
        this.segletOwner = new LogSegment[pool.totalSeglets()];
        this.segletPosition = new int[pool.totalSeglets()];
        // Reference 0 means "no entry" to the hash table and its callers, and an entry at the
        // start of seglet 0 would have reference 0: the log never uses seglet 0.
        if (pool.allocate(0) != 0) {
            throw new IllegalStateException("the log needs a fresh pool (seglet 0 already taken)");
        }
        pool.onFree(this::signalMemoryFreed);
    }

    /** Sets what every new head carries after its digest; then opens the first head. */
    public void open(HeadMetadata metadata) {
        appendLock.lock();
        try {
            if (head != null) {
                throw new IllegalStateException("log already open");
            }
            this.headMetadata = metadata;
            if (!rollHead(writerFloorSeglets)) {
                throw new IllegalStateException("not enough memory to open the log");
            }
        } finally {
            appendLock.unlock();
        }
    }

    /** Called whenever free memory falls to the low-memory mark (the cleaner wakes up). */
    public void onLowMemory(Runnable action) {
        this.onLowMemory = action;
    }

    /** The lock every append and head change is made under. */
    public void lock() {
        appendLock.lock();
    }

    public void unlock() {
        appendLock.unlock();
    }

    public boolean isLockedByCurrentThread() {
        return appendLock.isHeldByCurrentThread();
    }

    MemorySegment allocateSeglet(LogSegment segment) {
        int index = pool.allocate(segment.floor);
        int free = pool.freeSeglets();
        if (free <= lowMemorySeglets) {
            onLowMemory.run();
        }
        if (index < 0) {
            return null;
        }
        int position = segment.segletCount();
        segment.recordSeglet(position, index);
        segletPosition[index] = position;
        segletOwner[index] = segment;
        return pool.seglet(index);
    }

    private void freeSeglets(LogSegment segment) {
        for (int i = 0; i < segment.segletCount(); i++) {
            int index = segment.segletIndex(i);
            if (segletOwner[index] == segment) {
                segletOwner[index] = null;
            }
            pool.free(index);
        }
    }

    private void signalMemoryFreed() {
        memoryLock.lock();
        try {
            memoryFreed.signalAll();
        } finally {
            memoryLock.unlock();
        }
    }

    /**
     * Waits until seglets are freed or {@code timeoutNs} passes; for writers that got a retry
     * status. Returns at once if memory is already above the writer floor.
     */
    public boolean awaitFreeMemory(long timeoutNs) throws InterruptedException {
        memoryLock.lock();
        try {
            long deadline = System.nanoTime() + timeoutNs;
            while (pool.freeSeglets() <= writerFloorSeglets + 1) {
                onLowMemory.run();
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                // Woken by every free; the slice bounds a missed wake-up of the cleaner.
                memoryFreed.awaitNanos(Math.min(remaining, TimeUnit.MILLISECONDS.toNanos(10)));
            }
            return true;
        } finally {
            memoryLock.unlock();
        }
    }

    // ---- the head (caller holds the append lock) ----

    public LogSegment head() {
        return head;
    }

    /**
     * Makes sure an entry of {@code framedLength} bytes fits in the head, rolling to a new head
     * if the current one is full. Afterwards an append of that size cannot fail.
     *
     * @return false if memory is exhausted (the caller answers with a retry status)
     */
    public boolean reserve(int framedLength) {
        long space = head.writer().ensureSpace(framedLength);
        if (space == 0) {
            return true;
        }
        if (space == SegmentWriter.NO_MEMORY) {
            return false;
        }
        if (!rollHead(writerFloorSeglets)) {
            return false;
        }
        return head.writer().ensureSpace(framedLength) == 0;
    }

    /**
     * Like {@link #reserve(int)}, but the head may take seglets down to {@code floorSeglets}
     * free, below the writer floor: for tombstones, so that objects can still be removed (and
     * their space cleaned) when memory is full of live objects.
     */
    public boolean reserve(int framedLength, int floorSeglets) {
        LogSegment current = head;
        int saved = current.floor;
        current.floor = floorSeglets;
        try {
            long space = current.writer().ensureSpace(framedLength);
            if (space == 0) {
                return true;
            }
            if (space == SegmentWriter.NO_MEMORY || !rollHead(floorSeglets)) {
                return false;
            }
            head.floor = floorSeglets;
            try {
                return head.writer().ensureSpace(framedLength) == 0;
            } finally {
                head.floor = writerFloorSeglets;
            }
        } finally {
            current.floor = saved;
        }
    }

    /** Seglets tombstones may leave free: halfway between the survivor floor and the writer floor. */
    public int tombstoneFloorSeglets() {
        return (survivorFloorSeglets + writerFloorSeglets) / 2;
    }

    /** Turns an offset in the head into a log reference. */
    public long reference(LogSegment segment, long offset) {
        int position = (int) (offset >>> SegletPool.SEGLET_SHIFT);
        return ((long) segment.segletIndex(position) << SegletPool.SEGLET_SHIFT)
                | (offset & (SegletPool.SEGLET_SIZE_BYTES - 1));
    }

    /** Records that {@code bytes} more were appended (the log's age clock). */
    public void advanceClock(long bytes) {
        appendedBytes += bytes;
    }

    /** Bytes appended to the log since it opened; the cleaner's notion of time. */
    public long clock() {
        return appendedBytes;
    }

    private boolean rollHead(int floor) {
        LogSegment previous = head;
        // An id that a failed roll does not use is simply skipped: ids only need to be unique.
        LogSegment next = new LogSegment(nextSegmentId.getAndIncrement(), segmentCapacityBytes, this);
        next.floor = floor;
        SegmentWriter writer = next.writer();
        if (writer.appendSegmentHeader(logId, next.id(), segmentCapacityBytes) < 0) {
            freeSeglets(next);
            return false;
        }
        segments.put(next.id(), next);
        long[] ids = segmentIds();
        if (writer.appendLogDigest(ids, ids.length) < 0 || !headMetadata.append(writer)) {
            segments.remove(next.id());
            freeSeglets(next);
            return false;
        }
        next.floor = writerFloorSeglets;
        next.ageStamp(appendedBytes);
        replication.segmentOpened(next.id());
        // The header and digest go to the backups now, not with the next write: an idle master's
        // digest must become durable too, so that segments it no longer names can be freed (I2).
        replication.sync(next.id(), writer.position(), writer.certificateChecksum());
        head = next;
        if (previous != null) {
            previous.markClosed(appendedBytes);
            replication.segmentClosed(previous.id(), previous.writer().certificate());
        }
        return true;
    }

    /** Ids of every segment in the log. */
    public long[] segmentIds() {
        long[] ids = new long[segments.size() + 8];
        int count = 0;
        for (Long id : segments.keySet()) {
            if (count == ids.length) {
                ids = java.util.Arrays.copyOf(ids, ids.length * 2);
            }
            ids[count++] = id;
        }
        ids = java.util.Arrays.copyOf(ids, count);
        java.util.Arrays.sort(ids);
        return ids;
    }

    // ---- references ----

    /** The segment holding the entry at {@code reference}. */
    public LogSegment segmentOf(long reference) {
        return segletOwner[(int) (reference >>> SegletPool.SEGLET_SHIFT)];
    }

    /** Logical offset, within {@link #segmentOf}, of the entry at {@code reference}. */
    public long offsetOf(long reference) {
        int index = (int) (reference >>> SegletPool.SEGLET_SHIFT);
        return ((long) segletPosition[index] << SegletPool.SEGLET_SHIFT)
                | (reference & (SegletPool.SEGLET_SIZE_BYTES - 1));
    }

    // ---- cleaner support ----

    /** Closed segments, for the cleaner to choose from (a snapshot; may be stale). */
    public List<LogSegment> closedSegments() {
        List<LogSegment> closed = new ArrayList<>(segments.size());
        for (LogSegment segment : segments.values()) {
            // A segment still being replicated is not cleaned: compaction would change the bytes
            // its replicas are being sent from, and its backups must hold it before it is freed.
            if (segment.isClosed() && segment != head && replication.replicated(segment.id())) {
                closed.add(segment);
            }
        }
        return closed;
    }

    public Collection<LogSegment> segments() {
        return segments.values();
    }

    /** The segment with this id, or {@code null} if it is not (or no longer) in the log. */
    public LogSegment segment(long segmentId) {
        return segments.get(segmentId);
    }

    public boolean containsSegment(long segmentId) {
        return segments.containsKey(segmentId);
    }

    public int segmentCount() {
        return segments.size();
    }

    /** A new segment for cleaner output; not part of the log until committed. */
    public LogSegment newSurvivor() {
        // No lock: a cleaner may call this while holding the hash table against rebuilds,
        // and the writer takes the append lock before it rebuilds.
        long id = nextSegmentId.getAndIncrement();
        LogSegment survivor = new LogSegment(id, segmentCapacityBytes, this);
        survivor.floor = survivorFloorSeglets;
        survivor.holdsCopies = true;
        return survivor;
    }

    /** A fresh in-memory copy of an existing segment (compaction: same id, fewer seglets). */
    public LogSegment newCompactionTarget(LogSegment original) {
        LogSegment target = new LogSegment(original.id(), segmentCapacityBytes, this);
        target.floor = survivorFloorSeglets;
        target.holdsCopies = true;
        return target;
    }

    /**
     * Takes, up front, the seglets a compaction target needs for {@code bytes} more bytes, so
     * the compaction cannot run out of memory half-way (it may then dip below the survivor floor).
     *
     * @return false if memory does not allow it (the caller discards the target)
     */
    public boolean reserveForCompaction(LogSegment target, long bytes) {
        int room = target.writer().capacityBytes() - target.writer().position();
        if (target.writer().ensureSpace((int) Math.min(bytes, room)) != 0) {
            return false;
        }
        target.floor = 0;
        return true;
    }

    /** Gives back an unused cleaner segment. */
    public void discard(LogSegment segment) {
        freeSeglets(segment);
    }

    /** Bytes a segment header plus a digest take at the start of a survivor. */
    public long logId() {
        return logId;
    }

    public int segmentCapacityBytes() {
        return segmentCapacityBytes;
    }

    /**
     * Makes a cleaning pass's result part of the log: survivors join, sources leave, a new
     * head records the new digest, and the sources' seglets are freed once no running
     * operation can still read them.
     *
     * @return false if there was no memory for the new head, or a snapshot pinned a source
     *         meanwhile (survivors joined; no source left)
     */
    public boolean commitCleaning(List<LogSegment> survivors, List<LogSegment> sources) {
        appendLock.lock();
        try {
            for (LogSegment survivor : survivors) {
                survivor.markClosed(survivor.ageStamp());
                replication.segmentOpened(survivor.id());
                replication.segmentClosed(survivor.id(), survivor.writer().certificate());
                segments.put(survivor.id(), survivor);
            }
            // A snapshot kept an object of a source during the pass (keeping happens under this
            // lock; compaction moves pins only between segments no combined pass holds): every
            // source stays, since a tombstone naming one may have been dropped.
            for (LogSegment source : sources) {
                if (source.snapshotPins() > 0) {
                    return false;
                }
            }
            for (LogSegment source : sources) {
                segments.remove(source.id());
            }
            if (!rollHead(0)) {
                for (LogSegment source : sources) {
                    segments.put(source.id(), source);
                }
                return false;
            }
        } finally {
            appendLock.unlock();
        }
        for (LogSegment source : sources) {
            replication.segmentFreed(source.id());
            epochs.retire(() -> freeSeglets(source));
        }
        return true;
    }

    /** Swaps a segment for its compacted copy (same id, so the digest does not change). */
    public void commitCompaction(LogSegment original, LogSegment compacted) {
        compacted.inheritReplicaLength(original);
        compacted.markClosed(original.ageStamp());
        segments.put(original.id(), compacted);
        epochs.retire(() -> freeSeglets(original));
    }

    /** Seglets the log holds (everything not free in the pool). */
    public int segletsHeld() {
        return pool.totalSeglets() - pool.freeSeglets();
    }

    public SegletPool pool() {
        return pool;
    }

    public int writerFloorSeglets() {
        return writerFloorSeglets;
    }

    /** Certificate of the head as it stands (for replication sync). */
    public SegmentCertificate headCertificate() {
        return head.writer().certificate();
    }
}
