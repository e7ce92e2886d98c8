package io.ferrite.master.cleaner;

import io.ferrite.log.EntryDescriptor;
import io.ferrite.log.EntryType;
import io.ferrite.proto.KeyHash;
import io.ferrite.log.MetadataDescriptors;
import io.ferrite.log.ObjectFlyweight;
import io.ferrite.log.SegmentIterator;
import io.ferrite.log.SegmentWriter;
import io.ferrite.log.TombstoneFlyweight;
import io.ferrite.master.EngineContext;
import io.ferrite.master.ObjectManager;
import io.ferrite.master.epoch.EpochManager;
import io.ferrite.master.hashtable.HashTable;
import io.ferrite.master.log.LogSegment;
import io.ferrite.master.log.MasterLog;
import io.ferrite.master.snapshot.SnapshotHistory;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reclaims the space of dead entries, on its own threads, in two ways chosen by a
 * {@link CleaningBalancer}:
 *
 * <ul>
 *   <li><b>Compaction</b> rewrites one closed segment's live entries into fewer seglets under
 *       the same segment id. Tombstones stay while the segment they name is in the log.</li>
 *   <li><b>Combined cleaning</b> copies the live entries of several segments, oldest segment
 *       first, into new survivor segments, then commits: survivors join the log, a new head
 *       records the digest without the sources, and the sources' seglets are freed once no
 *       running operation can read them.</li>
 * </ul>
 *
 * An object is live when the hash table still points at it. The cleaner copies it, then swings
 * the hash table slot with a compare-and-set; if a writer replaced the object meanwhile, the
 * copy is simply dead. Each pass claims its segments so several cleaner threads never share one.
 *
 * <p><b>Snapshots.</b> An object a snapshot keeps ({@link SnapshotHistory}) is live too, but
 * only compaction moves it: compaction keeps the segment id, so the tombstone that may name
 * that segment stays valid. A segment holding kept objects ({@link LogSegment#snapshotPins()})
 * is never a source of combined cleaning, and a combined pass whose source was pinned while it
 * ran keeps all its sources (as a pass without memory for its new head does).
 */
public final class LogCleaner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogCleaner.class);
    private static final long IDLE_WAIT_NS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Length of a survivor that received nothing but its segment header. */
    private static final int HEADER_ONLY_BYTES =
            EntryDescriptor.framedLength(MetadataDescriptors.SEGMENT_HEADER_PAYLOAD_BYTES);

    private final MasterLog log;
    private final HashTable hashTable;
    private final EpochManager epochs;
    private final ObjectManager objects;
    private final SnapshotHistory snapshots;
    private final CleaningBalancer balancer;
    private final int threadCount;
    private final List<Thread> threads = new ArrayList<>();
    private final ReentrantLock wakeLock = new ReentrantLock();
    private final Condition wakeUp = wakeLock.newCondition();
    private final ThreadLocal<Worker> workers = ThreadLocal.withInitial(Worker::new);
    private volatile boolean running;
    private boolean wakeRequested;

    private final AtomicLong compactions = new AtomicLong();
    private final AtomicLong combinedPasses = new AtomicLong();
    private final AtomicLong segmentsCleaned = new AtomicLong();
    private final AtomicLong bytesMoved = new AtomicLong();
    private final AtomicLong segletsFreed = new AtomicLong();
    private final AtomicLong tombstonesDropped = new AtomicLong();
    private final AtomicLong cleaningTimeNs = new AtomicLong();
    private final AtomicLong passesAborted = new AtomicLong();

    public LogCleaner(MasterLog log, HashTable hashTable, EpochManager epochs, ObjectManager objects,
                      SnapshotHistory snapshots, EngineContext context) {
        this.log = log;
        this.snapshots = snapshots;
        this.hashTable = hashTable;
        this.epochs = epochs;
        this.objects = objects;
        int segmentCap = (int) Math.max(4, context.logSizeCapFactor() * context.memoryBytes() / context.segmentSizeBytes());
        this.balancer = new CleaningBalancer(context.lowMemorySeglets(), context.writerFloorSeglets(),
                EngineContext.SURVIVOR_FLOOR_SEGLETS, segmentCap, context.tombstoneShare(), context.cleanerThreads(),
                context.segmentSizeBytes());
        this.threadCount = context.cleanerThreads();
    }

    /** Starts the configured cleaner threads (none when configured with 0). */
    public void start() {
        running = true;
        for (int i = 0; i < threadCount; i++) {
            Thread thread = Thread.ofPlatform().name("ferrite-cleaner-" + i).daemon(true).unstarted(this::run);
            threads.add(thread);
            thread.start();
        }
    }

    /** Asks the cleaner threads to look at the log now (memory is getting low). */
    public void wake() {
        if (threadCount == 0) {
            return;
        }
        wakeLock.lock();
        try {
            wakeRequested = true;
            wakeUp.signalAll();
        } finally {
            wakeLock.unlock();
        }
    }

    private void run() {
        while (running) {
            boolean worked;
            try {
                worked = cleanOnce();
            } catch (RuntimeException e) {
                LOG.error("cleaning pass failed; the cleaner keeps running", e);
                worked = false;
            }
            if (!worked) {
                waitForWork();
            }
        }
    }

    private void waitForWork() {
        wakeLock.lock();
        try {
            if (!wakeRequested && running) {
                wakeUp.awaitNanos(IDLE_WAIT_NS);
            }
            wakeRequested = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        } finally {
            wakeLock.unlock();
        }
    }

    /**
     * Runs one balancer decision and the pass it asks for, on the calling thread.
     *
     * @return true if a pass ran (there may be more to do)
     */
    public boolean cleanOnce() {
        epochs.reclaim();
        CleaningBalancer.Decision decision = balancer.decide(log.closedSegments(), log.segmentCount(),
                log.pool().freeSeglets(), objects.tombstoneBytes(), log.clock());
        long start = System.nanoTime();
        long droppedBefore = tombstonesDropped.get();
        // A pass reads the hash table like any operation, so it holds an epoch: a table
        // replaced by growth is not released under it.
        int token = epochs.enter();
        boolean worked;
        try {
            worked = switch (decision) {
                case CleaningBalancer.Decision.Idle idle -> false;
                case CleaningBalancer.Decision.Compact compact -> compact(compact.segment());
                case CleaningBalancer.Decision.Combine combine -> combine(combine.sources());
            };
        } finally {
            epochs.exit(token);
        }
        if (decision instanceof CleaningBalancer.Decision.Combine combine && combine.forTombstones()) {
            balancer.tombstonePassDone(tombstonesDropped.get() > droppedBefore, log.clock());
        }
        if (worked) {
            cleaningTimeNs.addAndGet(System.nanoTime() - start);
            epochs.reclaim();
        }
        return worked;
    }

    private boolean compact(LogSegment original) {
        if (!original.tryClaimForCleaning()) {
            return false;
        }
        Worker worker = workers.get();
        worker.startPass();
        LogSegment target = log.newCompactionTarget(original);
        if (target.writer().appendSegmentHeader(log.logId(), original.id(), log.segmentCapacityBytes()) < 0
                || !log.reserveForCompaction(target, original.liveBytes())) {
            log.discard(target);
            original.releaseCleaningClaim();
            return false;
        }
        int before = original.segletCount();
        Set<Long> none = Set.of();
        if (!copyLive(worker, original, List.of(target), none, true)) {
            // Cannot happen: space was reserved for every live byte. Keep both copies valid.
            throw new IllegalStateException("compaction of " + original + " ran out of reserved memory");
        }
        worker.startPass(); // a compacted segment keeps its original's age
        if (target.segletCount() >= before) {
            // Nothing gained (cannot happen while the balancer's estimate covers the header);
            // keep it correct anyway: the copy is complete, so commit it, but say so.
            LOG.warn("compaction of {} freed no seglet", original);
        }
        log.commitCompaction(original, target);
        settleDroppedTombstones(worker.droppedTombstoneBytes, worker.droppedTombstones);
        compactions.incrementAndGet();
        segletsFreed.addAndGet(before - target.segletCount());
        return true;
    }

    private boolean combine(List<LogSegment> candidates) {
        List<LogSegment> sources = new ArrayList<>(candidates.size());
        for (LogSegment segment : candidates) {
            if (segment.tryClaimForCleaning()) {
                sources.add(segment);
            }
        }
        if (sources.isEmpty()) {
            return false;
        }
        sources.sort(Comparator.comparingLong(LogSegment::ageStamp));
        Set<Long> sourceIds = new HashSet<>();
        for (LogSegment source : sources) {
            sourceIds.add(source.id());
        }
        Worker worker = workers.get();
        worker.startPass();
        List<LogSegment> survivors = new ArrayList<>();
        List<LogSegment> finished = new ArrayList<>();
        boolean aborted = false;
        // Per source processed: tombstones dropped (bytes, count) and tombstones copied (bytes).
        long[][] tombstones = new long[sources.size()][3];
        int processed = 0;
        for (LogSegment source : sources) {
            boolean complete = copyLive(worker, source, survivors, sourceIds, false);
            tombstones[processed][0] = worker.droppedTombstoneBytes;
            tombstones[processed][1] = worker.droppedTombstones;
            tombstones[processed][2] = worker.copiedTombstoneBytes;
            processed++;
            if (!complete) {
                aborted = true;
                break;
            }
            finished.add(source);
        }
        worker.finishAge();
        LogSegment last = survivors.isEmpty() ? null : survivors.get(survivors.size() - 1);
        if (last != null && last.lengthBytes() == HEADER_ONLY_BYTES) {
            survivors.remove(last);
            log.discard(last);
        }
        int sourceSeglets = 0;
        for (LogSegment source : finished) {
            sourceSeglets += source.segletCount();
        }
        int survivorSeglets = 0;
        for (LogSegment survivor : survivors) {
            survivorSeglets += survivor.segletCount();
        }
        if (!log.commitCleaning(survivors, finished)) {
            aborted = true;
            finished.clear();
        }
        // A source that left the log took its dropped tombstones with it; one that stays keeps
        // them all, and the copies made of its kept ones are now in the log as well.
        for (int i = 0; i < processed; i++) {
            if (finished.contains(sources.get(i))) {
                settleDroppedTombstones(tombstones[i][0], tombstones[i][1]);
            } else if (tombstones[i][2] > 0) {
                objects.tombstoneDropped((int) -tombstones[i][2]);
            }
        }
        for (LogSegment source : sources) {
            if (!finished.contains(source)) {
                source.releaseCleaningClaim();
            }
        }
        if (aborted) {
            passesAborted.incrementAndGet();
        }
        if (!finished.isEmpty()) {
            combinedPasses.incrementAndGet();
            segmentsCleaned.addAndGet(finished.size());
            segletsFreed.addAndGet(sourceSeglets - survivorSeglets);
        }
        return !finished.isEmpty();
    }

    /**
     * Copies the live entries of {@code source} to the last segment of {@code targets}, opening
     * new survivors as they fill (combined cleaning) or into the single target (compaction).
     *
     * @return false if memory ran out part-way (entries copied so far stay valid)
     */
    private boolean copyLive(Worker worker, LogSegment source, List<LogSegment> targets, Set<Long> sourceIds,
                             boolean compaction) {
        hashTable.beginRelocations();
        try {
            return copyLiveHeld(worker, source, targets, sourceIds, compaction);
        } finally {
            hashTable.endRelocations();
            bytesMoved.addAndGet(worker.bytesMoved);
            worker.bytesMoved = 0;
        }
    }

    private boolean copyLiveHeld(Worker worker, LogSegment source, List<LogSegment> targets, Set<Long> sourceIds,
                                 boolean compaction) {
        SegmentIterator iterator = worker.iterator.resetTrusted(source.memory(), source.id(), source.lengthBytes());
        worker.droppedTombstoneBytes = 0;
        worker.droppedTombstones = 0;
        worker.copiedTombstoneBytes = 0;
        int step;
        while ((step = iterator.next()) == SegmentIterator.ENTRY) {
            EntryType type = iterator.type();
            if (type == EntryType.OBJECT) {
                ObjectFlyweight object = iterator.object();
                long reference = log.reference(source, iterator.entryOffset());
                int keyLength = object.keyLength();
                object.memory().copyTo(object.keyOffset(), worker.key, 0, keyLength);
                long hash = ObjectManager.indexHash(object.tableId(), KeyHash.hash(worker.key, 0, keyLength));
                boolean indexed = hashTable.contains(hash, reference);
                if (!indexed && !(compaction && snapshots.keeps(reference))) {
                    continue;
                }
                LogSegment target = append(worker, source, iterator, targets, compaction);
                if (target == null) {
                    return false;
                }
                long newReference = log.reference(target, worker.lastOffset);
                int framed = iterator.framedLength();
                target.addLiveBytes(framed);
                if (indexed && hashTable.relocateWhileHeld(hash, reference, newReference)) {
                    source.addLiveBytes(-framed); // matters if this source is not finished
                } else if (compaction && snapshots.relocate(reference, newReference, source, target)) {
                    // A snapshot keeps it (kept before this pass, or displaced by a writer during
                    // the copy: the history's write lock, which that writer holds until it is
                    // kept, waits it out). Not the append lock: a writer holding it may be
                    // waiting to grow the hash table, which this pass keeps from growing.
                    source.addLiveBytes(-framed);
                } else {
                    target.addLiveBytes(-framed);
                }
                worker.recordAge(target, source.ageStamp(), framed);
            } else if (type == EntryType.TOMBSTONE) {
                TombstoneFlyweight tombstone = iterator.tombstone();
                long named = tombstone.segmentId();
                boolean keep = log.containsSegment(named) && !sourceIds.contains(named);
                if (!keep) {
                    worker.droppedTombstones++;
                    worker.droppedTombstoneBytes += iterator.framedLength();
                    continue;
                }
                LogSegment target = append(worker, source, iterator, targets, compaction);
                if (target == null) {
                    return false;
                }
                target.addLiveBytes(iterator.framedLength());
                target.addTombstoneBytes(iterator.framedLength());
                worker.copiedTombstoneBytes += iterator.framedLength();
                worker.recordAge(target, source.ageStamp(), iterator.framedLength());
            }
            // Headers, digests, table stats and safe versions are rewritten by every new head.
        }
        if (step == SegmentIterator.CORRUPT) {
            throw new IllegalStateException("in-memory segment failed to iterate: " + iterator.corruption());
        }
        return true;
    }

    /** Appends the iterator's current entry to a target; returns it, or null when out of memory. */
    private LogSegment append(Worker worker, LogSegment source, SegmentIterator iterator, List<LogSegment> targets,
                              boolean compaction) {
        for (;;) {
            LogSegment target = targets.isEmpty() ? null : targets.get(targets.size() - 1);
            if (target != null) {
                long offset = target.writer().appendCopy(source.memory(), iterator.entryOffset(), iterator.framedLength());
                if (offset >= 0) {
                    worker.lastOffset = offset;
                    worker.bytesMoved += iterator.framedLength();
                    return target;
                }
                if (offset == SegmentWriter.NO_MEMORY || compaction) {
                    return null;
                }
            }
            LogSegment survivor = log.newSurvivor();
            if (survivor.writer().appendSegmentHeader(log.logId(), survivor.id(), log.segmentCapacityBytes()) < 0) {
                log.discard(survivor);
                return null;
            }
            targets.add(survivor);
        }
    }

    private void settleDroppedTombstones(long bytes, long count) {
        if (count > 0) {
            tombstonesDropped.addAndGet(count);
            objects.tombstoneDropped((int) bytes);
        }
    }

    public CleanerStats stats() {
        return new CleanerStats(compactions.get(), combinedPasses.get(), segmentsCleaned.get(), bytesMoved.get(),
                segletsFreed.get(), tombstonesDropped.get(), cleaningTimeNs.get(), passesAborted.get());
    }

    @Override
    public void close() {
        running = false;
        wakeLock.lock();
        try {
            wakeUp.signalAll();
        } finally {
            wakeLock.unlock();
        }
        for (Thread thread : threads) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** A cleaner thread's own buffers; never shared. */
    private static final class Worker {
        final SegmentIterator iterator = new SegmentIterator(false);
        final byte[] key = new byte[ObjectFlyweight.MAX_KEY_BYTES];
        long lastOffset;
        long bytesMoved;
        long droppedTombstones;
        long droppedTombstoneBytes;
        long copiedTombstoneBytes;
        LogSegment ageTarget;
        double ageWeighted;
        long ageBytes;

        void startPass() {
            ageTarget = null;
            ageWeighted = 0;
            ageBytes = 0;
        }

        /** Survivors take the byte-weighted age of the entries they received. */
        void recordAge(LogSegment target, long stamp, int bytes) {
            if (target != ageTarget) {
                finishAge();
                ageTarget = target;
            }
            ageWeighted += (double) stamp * bytes;
            ageBytes += bytes;
        }

        void finishAge() {
            if (ageTarget != null && ageBytes > 0) {
                ageTarget.ageStamp((long) (ageWeighted / ageBytes));
            }
            ageTarget = null;
            ageWeighted = 0;
            ageBytes = 0;
        }
    }
}
