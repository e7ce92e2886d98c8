package io.ferrite.master.log;

import io.ferrite.log.SegmentMemory;
import io.ferrite.log.SegmentWriter;
import io.ferrite.master.memory.SegletPool;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One segment of a master's log in memory: its seglets, its writer, and the bookkeeping the
 * cleaner needs (live bytes, age). A segment is written by one thread (the log head under the
 * append lock, or one cleaner for a survivor); once closed it is immutable until freed.
 */
public final class LogSegment {
    private static final VarHandle LIVE_BYTES;

    static {
        try {
            LIVE_BYTES = MethodHandles.lookup().findVarHandle(LogSegment.class, "liveBytes", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long id;
    private final SegmentMemory memory;
    private final SegmentWriter writer;
    private final int[] segletIndices;
    private final AtomicBoolean cleaning = new AtomicBoolean();
    @SuppressWarnings("unused") // accessed through LIVE_BYTES
    private volatile long liveBytes;
    private volatile boolean closed;
    private volatile long ageStamp;
    private volatile int replicaLengthBytes;
    private volatile long tombstoneBytes;
    /** Superseded objects in this segment that a snapshot still reads (changed under the snapshot lock). */
    private volatile int snapshotPins;
    int floor;
    /** Cleaner output (a survivor or a compaction target); set before any entry in it is published. */
    boolean holdsCopies;

    LogSegment(long id, int capacityBytes, MasterLog log) {
        this.id = id;
        int maxSeglets = (capacityBytes + SegletPool.SEGLET_SIZE_BYTES - 1) / SegletPool.SEGLET_SIZE_BYTES;
        this.memory = new SegmentMemory(maxSeglets, SegletPool.SEGLET_SIZE_BYTES);
        this.segletIndices = new int[maxSeglets];
        this.writer = new SegmentWriter(memory, capacityBytes, () -> log.allocateSeglet(this));
    }

    public long id() {
        return id;
    }

    public SegmentMemory memory() {
        return memory;
    }

    public SegmentWriter writer() {
        return writer;
    }

    /** Bytes written into the segment. */
    public int lengthBytes() {
        return writer.position();
    }

    public int segletCount() {
        return memory.segletCount();
    }

    int segletIndex(int position) {
        return segletIndices[position];
    }

    /** Pool indices of this segment's seglets, in segment order (a copy). */
    public int[] segletIndices() {
        return Arrays.copyOf(segletIndices, segletCount());
    }

    void recordSeglet(int position, int index) {
        segletIndices[position] = index;
    }

    /** Bytes of live objects and tombstones in this segment. */
    public long liveBytes() {
        return liveBytes;
    }

    public void addLiveBytes(long delta) {
        LIVE_BYTES.getAndAdd(this, delta);
    }

    /**
     * Bytes of tombstones written into this segment. They count as live until the cleaner
     * finds the segments they name gone, so under tombstone pressure the balancer treats them
     * as possibly dead.
     */
    public long tombstoneBytes() {
        return tombstoneBytes;
    }

    /** Called by the segment's single writer (the head under the append lock, or one cleaner). */
    public void addTombstoneBytes(long bytes) {
        tombstoneBytes += bytes;
    }

    /**
     * Whether this segment is cleaner output (a survivor or a compaction target): it holds only
     * copies of entries from segments that were complete on their backups before they were
     * cleaned, so nothing in it waits for durability (readers use this).
     */
    public boolean holdsCopies() {
        return holdsCopies;
    }

    public boolean isClosed() {
        return closed;
    }

    void markClosed(long stamp) {
        ageStamp = stamp;
        if (replicaLengthBytes == 0) {
            replicaLengthBytes = writer.position();
        }
        closed = true;
    }

    /**
     * Bytes the segment's replicas take: its length when closed, kept by compaction (which
     * shrinks only the in-memory copy). Live bytes over this is the segment's utilization.
     */
    public int replicaLengthBytes() {
        int length = replicaLengthBytes;
        return length == 0 ? Math.max(1, writer.position()) : length;
    }

    void inheritReplicaLength(LogSegment original) {
        replicaLengthBytes = original.replicaLengthBytes();
    }

    /** Log position (bytes appended to the log) when the segment's data was written; older is smaller. */
    public long ageStamp() {
        return ageStamp;
    }

    /** Sets the age stamp (a survivor takes the weighted age of what it received). */
    public void ageStamp(long stamp) {
        ageStamp = stamp;
    }

    /**
     * Objects in this segment that a snapshot still needs although the hash table no longer
     * points at them. A pinned segment may be compacted (same id, so tombstones naming it stay
     * valid) but never freed by combined cleaning.
     */
    public int snapshotPins() {
        return snapshotPins;
    }

    /** Changed only under the snapshot history's write lock. */
    @SuppressWarnings("NonAtomicOperationOnVolatileField")
    public void addSnapshotPins(int delta) {
        snapshotPins += delta;
    }

    /** Claims the segment for one cleaner; false if another has it. */
    public boolean tryClaimForCleaning() {
        return cleaning.compareAndSet(false, true);
    }

    public void releaseCleaningClaim() {
        cleaning.set(false);
    }

    public boolean isBeingCleaned() {
        return cleaning.get();
    }

    @Override
    public String toString() {
        return "segment " + id + " (" + lengthBytes() + " bytes, " + liveBytes + " live, " + segletCount() + " seglets)";
    }
}
