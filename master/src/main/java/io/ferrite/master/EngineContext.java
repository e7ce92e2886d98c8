package io.ferrite.master;

import io.ferrite.master.log.ReplicationHook;
import io.ferrite.master.memory.MemoryBackend;
import io.ferrite.master.memory.SegletPool;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * Configuration of a master's object store. Set what differs from the defaults, then
 * {@link #conclude()} checks everything at once and derives the rest; a bad setting is named
 * in the exception's message.
 */
public final class EngineContext {
    public static final long DEFAULT_MEMORY_BYTES = 1L << 30;
    public static final int DEFAULT_SEGMENT_SIZE_BYTES = 8 << 20;
    public static final int DEFAULT_CLEANER_THREADS = 1;
    public static final long DEFAULT_INITIAL_HASH_BUCKETS = 4096;
    public static final int DEFAULT_MAX_VALUE_BYTES = 1 << 20;
    /** The log may span this many times the memory in (uncompacted) segment capacity. */
    public static final double DEFAULT_LOG_SIZE_CAP_FACTOR = 2.0;
    /** Combined cleaning starts when tombstones take this share of free memory. */
    public static final double DEFAULT_TOMBSTONE_SHARE = 0.4;
    public static final int SURVIVOR_FLOOR_SEGLETS = 4;

    private long memoryBytes = DEFAULT_MEMORY_BYTES;
    private MemoryBackend backend = MemoryBackend.DRAM;
    private Path pmemDirectory;
    private int segmentSizeBytes = DEFAULT_SEGMENT_SIZE_BYTES;
    private int cleanerThreads = DEFAULT_CLEANER_THREADS;
    private long initialHashBuckets = DEFAULT_INITIAL_HASH_BUCKETS;
    private int maxValueBytes = DEFAULT_MAX_VALUE_BYTES;
    private double logSizeCapFactor = DEFAULT_LOG_SIZE_CAP_FACTOR;
    private double tombstoneShare = DEFAULT_TOMBSTONE_SHARE;
    private int writerFloorSeglets = -1;
    private int lowMemorySeglets = -1;
    private long logId = 1;
    private TabletOwnership tabletOwnership = TabletOwnership.ALL;
    private ReplicationHook replicationHook = ReplicationHook.NONE;
    private LongSupplier clockSeconds = () -> System.currentTimeMillis() / 1000;
    private boolean concluded;

    /**
     * Validates the settings and derives the memory floors.
     *
     * @throws IllegalArgumentException naming the first bad setting
     */
    public EngineContext conclude() {
        if (memoryBytes < 16L * SegletPool.SEGLET_SIZE_BYTES) {
            throw new IllegalArgumentException("memory: " + memoryBytes + " bytes is below the minimum of "
                    + 16 * SegletPool.SEGLET_SIZE_BYTES + " (16 seglets of 64 KiB)");
        }
        if (segmentSizeBytes < 2 * SegletPool.SEGLET_SIZE_BYTES || segmentSizeBytes > 8 << 20
                || segmentSizeBytes % SegletPool.SEGLET_SIZE_BYTES != 0) {
            throw new IllegalArgumentException("segment-size: " + segmentSizeBytes
                    + " must be a multiple of 64 KiB between 128 KiB and 8 MiB");
        }
        if (backend == MemoryBackend.PMEM && pmemDirectory == null) {
            throw new IllegalArgumentException("pmem-dir: the pmem backend needs a directory");
        }
        if (cleanerThreads < 0 || cleanerThreads > 64) {
            throw new IllegalArgumentException("cleaner-threads: " + cleanerThreads + " is outside 0..64");
        }
        if (initialHashBuckets < 1) {
            throw new IllegalArgumentException("hash-buckets: must be positive, got " + initialHashBuckets);
        }
        if (maxValueBytes < 0 || maxValueBytes > 1 << 20) {
            throw new IllegalArgumentException("max-value-bytes: " + maxValueBytes + " is outside 0..1 MiB");
        }
        if (segmentSizeBytes < maxValueBytes + 2 * 65_536 + 64) {
            throw new IllegalArgumentException("segment-size: " + segmentSizeBytes
                    + " cannot hold the largest object (value " + maxValueBytes + " bytes plus a 64 KiB key)");
        }
        if (!(logSizeCapFactor >= 1.0)) {
            throw new IllegalArgumentException("log-size-cap: " + logSizeCapFactor + " must be at least 1.0");
        }
        if (!(tombstoneShare > 0 && tombstoneShare <= 1)) {
            throw new IllegalArgumentException("tombstone-share: " + tombstoneShare + " must be in (0, 1]");
        }
        int totalSeglets = (int) (memoryBytes / SegletPool.SEGLET_SIZE_BYTES);
        int segmentSeglets = segmentSizeBytes / SegletPool.SEGLET_SIZE_BYTES;
        if (writerFloorSeglets < 0) {
            // Room for each cleaner thread to write one full segment of survivors, or 1 % of memory.
            writerFloorSeglets = SURVIVOR_FLOOR_SEGLETS
                    + Math.max(Math.max(1, cleanerThreads) * (segmentSeglets + 8), totalSeglets / 100);
        }
        if (writerFloorSeglets <= SURVIVOR_FLOOR_SEGLETS || writerFloorSeglets >= totalSeglets / 2) {
            throw new IllegalArgumentException("memory: " + memoryBytes + " bytes is too small for segments of "
                    + segmentSizeBytes + " bytes (the cleaner's reserve of " + writerFloorSeglets
                    + " seglets must stay under half of memory); give more memory or smaller segments");
        }
        if (lowMemorySeglets < 0) {
            lowMemorySeglets = writerFloorSeglets + Math.max(segmentSeglets, totalSeglets * 3 / 100);
        }
        concluded = true;
        return this;
    }

    void checkConcluded() {
        if (!concluded) {
            throw new IllegalStateException("EngineContext.conclude() was not called");
        }
    }

    public long memoryBytes() {
        return memoryBytes;
    }

    public EngineContext memoryBytes(long bytes) {
        this.memoryBytes = bytes;
        return this;
    }

    public MemoryBackend backend() {
        return backend;
    }

    public EngineContext backend(MemoryBackend backend) {
        this.backend = backend;
        return this;
    }

    public Path pmemDirectory() {
        return pmemDirectory;
    }

    public EngineContext pmemDirectory(Path directory) {
        this.pmemDirectory = directory;
        return this;
    }

    public int segmentSizeBytes() {
        return segmentSizeBytes;
    }

    public EngineContext segmentSizeBytes(int bytes) {
        this.segmentSizeBytes = bytes;
        return this;
    }

    public int cleanerThreads() {
        return cleanerThreads;
    }

    /** Cleaner threads; 0 disables background cleaning (tests drive {@code cleanOnce} themselves). */
    public EngineContext cleanerThreads(int threads) {
        this.cleanerThreads = threads;
        return this;
    }

    public long initialHashBuckets() {
        return initialHashBuckets;
    }

    public EngineContext initialHashBuckets(long buckets) {
        this.initialHashBuckets = buckets;
        return this;
    }

    public int maxValueBytes() {
        return maxValueBytes;
    }

    public EngineContext maxValueBytes(int bytes) {
        this.maxValueBytes = bytes;
        return this;
    }

    public double logSizeCapFactor() {
        return logSizeCapFactor;
    }

    public EngineContext logSizeCapFactor(double factor) {
        this.logSizeCapFactor = factor;
        return this;
    }

    public double tombstoneShare() {
        return tombstoneShare;
    }

    public EngineContext tombstoneShare(double share) {
        this.tombstoneShare = share;
        return this;
    }

    /** Seglets kept free for the cleaner: writes get {@link Status#RETRY} below this. */
    public int writerFloorSeglets() {
        return writerFloorSeglets;
    }

    public EngineContext writerFloorSeglets(int seglets) {
        this.writerFloorSeglets = seglets;
        return this;
    }

    /** Free seglets at which the cleaner starts working. */
    public int lowMemorySeglets() {
        return lowMemorySeglets;
    }

    public EngineContext lowMemorySeglets(int seglets) {
        this.lowMemorySeglets = seglets;
        return this;
    }

    public long logId() {
        return logId;
    }

    public EngineContext logId(long id) {
        this.logId = id;
        return this;
    }

    public TabletOwnership tabletOwnership() {
        return tabletOwnership;
    }

    public EngineContext tabletOwnership(TabletOwnership ownership) {
        this.tabletOwnership = ownership;
        return this;
    }

    public ReplicationHook replicationHook() {
        return replicationHook;
    }

    public EngineContext replicationHook(ReplicationHook hook) {
        this.replicationHook = hook;
        return this;
    }

    public LongSupplier clockSeconds() {
        return clockSeconds;
    }

    /** Source of write timestamps (seconds since the epoch); tests inject their own. */
    public EngineContext clockSeconds(LongSupplier clock) {
        this.clockSeconds = clock;
        return this;
    }
}
