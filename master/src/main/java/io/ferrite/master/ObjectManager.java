package io.ferrite.master;

import io.ferrite.log.EntryDescriptor;
import io.ferrite.proto.KeyHash;
import io.ferrite.log.ObjectFlyweight;
import io.ferrite.log.SegmentMemory;
import io.ferrite.log.SegmentWriter;
import io.ferrite.log.TombstoneFlyweight;
import io.ferrite.master.cleaner.LogCleaner;
import io.ferrite.master.epoch.EpochManager;
import io.ferrite.master.hashtable.HashTable;
import io.ferrite.master.log.LogSegment;
import io.ferrite.master.log.MasterLog;
import io.ferrite.master.memory.MemoryBackend;
import io.ferrite.master.memory.SegletPool;
import io.ferrite.master.snapshot.Snapshot;
import io.ferrite.master.snapshot.SnapshotHistory;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A master's objects in log-structured memory: read, write, remove, conditional variants and
 * increments, over a {@link MasterLog}, a {@link HashTable} and a {@link LogCleaner}.
 *
 * <p>Concurrency: every mutation runs under the log's append lock (one writer at a time, in
 * log order); reads take no lock. Every operation brackets itself in an epoch so the memory it
 * reads is not reused under it. A write appends the new object to the head first and then
 * publishes its reference in the hash table with release semantics, so a reader that finds a
 * reference sees the whole entry. A remove reserves space for its tombstone, takes the object
 * out of the hash table (learning exactly where it was, even if the cleaner just moved it),
 * then writes a tombstone naming that segment.
 *
 * <p>Versions come from one counter per master and strictly increase, so a key's versions are
 * never reused even after a delete; every new head records the counter as the safe version.
 *
 * <p><b>Ownership under the append lock.</b> A mutation asks {@link TabletOwnership} after it
 * took the append lock, so a caller that first withdraws ownership and then calls
 * {@link #dropTable} (which takes the lock) knows every write either landed before the drop
 * (and is dropped with the table) or is refused with {@link Status#UNKNOWN_TABLET}: none lands
 * in a table that is gone.
 *
 * <p><b>What an answer depends on.</b> Each operation records in its {@link ObjectResult} the
 * {@link LogPosition} its answer reveals, so the caller can hold the answer until that position
 * is durable (linearizable reads): the end of the entry a read returns or a rejection was
 * decided on, the end of an append, and for "doesn't exist" the end of the newest removal
 * (tombstone) of a key hashing to the same one of {@value #REMOVAL_STRIPES} stripes. Entries in
 * cleaner output ({@link LogSegment#holdsCopies()}) depend on nothing: they were copied from
 * segments complete on their backups. A remove marks its stripe {@code PENDING} before it
 * unlinks the object and writes the tombstone's position after appending it; a reader that finds
 * the key absent and the mark pending waits for the append lock (the remove is then done).
 */
public final class ObjectManager implements AutoCloseable, HashTable.KeyMatcher {
    private static final long TABLE_MIX = 0x9E3779B97F4A7C15L;
    /** Stripes of {@link #removalMarks}: a power of two (32 KiB of marks). */
    static final int REMOVAL_STRIPES = 4096;
    private static final int REMOVAL_STRIPE_SHIFT = 64 - Integer.numberOfTrailingZeros(REMOVAL_STRIPES);
    /** A removal mark while its remove runs (unlinked, tombstone not yet appended). */
    private static final long PENDING = -1;
    private static final VarHandle MARK = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle NEWEST_REMOVAL;

    static {
        try {
            NEWEST_REMOVAL = MethodHandles.lookup().findVarHandle(ObjectManager.class, "newestRemoval", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final EngineContext context;
    private final SegletPool pool;
    private final EpochManager epochs = new EpochManager();
    private final HashTable hashTable;
    private final MasterLog log;
    private final LogCleaner cleaner;
    private final TabletOwnership ownership;
    private final Map<Long, TableCounters> tables = new ConcurrentHashMap<>();
    private final SnapshotHistory snapshots = new SnapshotHistory();
    private final ObjectFlyweight writerView = new ObjectFlyweight();
    private final byte[] rehashKey = new byte[ObjectFlyweight.MAX_KEY_BYTES];
    private final int maxValueBytes;
    private long nextVersion = 1;
    // Written under the append lock only; statistics read them under it too.
    private long liveEntryBytes;
    private long liveKeyValueBytes;
    private long tombstoneBytes;
    private TableCounters lastCounters = new TableCounters(Long.MIN_VALUE);
    /** The whole pool region as one segment: entries within one seglet are read here directly. */
    private final SegmentMemory regionMemory;
    private volatile boolean closed;
    /**
     * Per stripe of the index hash: the {@link LogPosition} of the end of the newest tombstone
     * of a key in that stripe (0: none since start), or {@link #PENDING}. Written under the
     * append lock, read lock-free.
     */
    private final long[] removalMarks = new long[REMOVAL_STRIPES];
    /** The same over every key (enumerate reveals absence of any key). */
    @SuppressWarnings("unused") // accessed through NEWEST_REMOVAL
    private volatile long newestRemoval;

    public ObjectManager(EngineContext context) {
        context.checkConcluded();
        this.context = context;
        this.pool = context.backend() == MemoryBackend.PMEM
                ? SegletPool.pmem(context.pmemDirectory(), context.memoryBytes())
                : SegletPool.dram(context.memoryBytes());
        this.hashTable = new HashTable(context.initialHashBuckets(), epochs);
        this.log = new MasterLog(pool, epochs, context.replicationHook(), context.logId(),
                context.segmentSizeBytes(), context.writerFloorSeglets(), EngineContext.SURVIVOR_FLOOR_SEGLETS,
                context.lowMemorySeglets());
        this.regionMemory = new SegmentMemory(pool.allSeglets(), SegletPool.SEGLET_SIZE_BYTES);
        this.ownership = context.tabletOwnership();
        this.maxValueBytes = context.maxValueBytes();
        this.cleaner = new LogCleaner(log, hashTable, epochs, this, snapshots, context);
        log.onLowMemory(cleaner::wake);
        log.open(this::appendHeadMetadata);
        cleaner.start();
    }

    /**
     * The hash that places a (table, key) in the index: the key hash itself. Buckets are
     * ordered by it (the bucket is a monotonic function of the hash), so a tablet's objects lie
     * in a contiguous run of buckets and enumeration can resume from a hash. Objects of
     * different tables with equal keys share a bucket and are told apart by table id.
     */
    public static long indexHash(long tableId, long keyHash) {
        return keyHash;
    }

    // ---- reads ----

    /**
     * Reads an object into {@code out} (value, version, timestamp) and records in it the log
     * position the answer depends on (see the class comment). Lock-free, allocation-free.
     */
    public Status read(long tableId, byte[] key, ObjectResult out) {
        if (key == null || key.length < 1 || key.length > ObjectFlyweight.MAX_KEY_BYTES) {
            return Status.INVALID_ARGUMENT;
        }
        long keyHash = KeyHash.hash(key);
        if (!ownership.owns(tableId, keyHash)) {
            return Status.UNKNOWN_TABLET;
        }
        long hash = indexHash(tableId, keyHash);
        int token = epochs.enter();
        try {
            long reference = hashTable.lookup(hash, tableId, key, 0, key.length, this);
            if (reference != 0) {
                ObjectFlyweight view = out.view;
                wrap(view, reference);
                out.version = view.version();
                out.timestampSeconds = view.timestampSeconds();
                byte[] buffer = out.valueBuffer(view.valueLength());
                view.memory().copyTo(view.valueOffset(), buffer, 0, view.valueLength());
                out.dependsOn(positionOf(reference));
                return Status.OK;
            }
        } finally {
            epochs.exit(token);
        }
        out.version = 0;
        out.valueLength = 0;
        out.dependsOn(removalMark(hash));
        return Status.OBJECT_DOESNT_EXIST;
    }

    /**
     * The position an answer revealing the entry at {@code reference} depends on: its end in
     * its segment, or none for cleaner output. Caller holds an epoch.
     */
    private long positionOf(long reference) {
        LogSegment segment = log.segmentOf(reference);
        if (segment.holdsCopies()) {
            return LogPosition.NONE;
        }
        return LogPosition.of(segment.id(), (int) log.offsetOf(reference) + framedLengthAt(reference));
    }

    private static int stripeOf(long hash) {
        return (int) ((hash * TABLE_MIX) >>> REMOVAL_STRIPE_SHIFT);
    }

    /**
     * The position a "doesn't exist" for {@code hash} depends on: the end of the newest tombstone
     * in its stripe. Call after the lookup that found nothing, outside an epoch; lock-free unless
     * a remove in the stripe is half-way (then it waits for the append lock, which that remove holds).
     */
    private long removalMark(long hash) {
        int stripe = stripeOf(hash);
        long mark = (long) MARK.getAcquire(removalMarks, stripe);
        return mark != PENDING ? mark : settled(() -> (long) MARK.getVolatile(removalMarks, stripe));
    }

    /** {@link #removalMark} for the writer (holds the append lock: no mark is pending). */
    private long removalMarkLocked(long hash) {
        long mark = removalMarks[stripeOf(hash)];
        return mark != PENDING ? mark : headPosition();
    }

    /**
     * The position every "doesn't exist" so far depends on: the end of the newest tombstone of
     * any key. Enumerate calls it after its pass (a pass reveals that removed keys are gone).
     */
    public long newestRemovalPosition() {
        long mark = (long) NEWEST_REMOVAL.getAcquire(this);
        return mark != PENDING ? mark : settled(() -> (long) NEWEST_REMOVAL.getVolatile(this));
    }

    /** Reads a mark under the append lock, where no remove is half-way (rare: a reader met PENDING). */
    private long settled(java.util.function.LongSupplier mark) {
        log.lock();
        try {
            long value = mark.getAsLong();
            // Still pending under the lock only if a remove failed half-way: bound it by the head.
            return value != PENDING ? value : headPosition();
        } finally {
            log.unlock();
        }
    }

    /** The end of the head now; caller holds the append lock. */
    private long headPosition() {
        LogSegment head = log.head();
        return LogPosition.of(head.id(), head.writer().position());
    }

    // ---- writes ----

    /** Writes (creates or overwrites) an object unless {@code rules} refuse; {@code out.version()} is the new version. */
    public Status write(long tableId, byte[] key, byte[] value, RejectRules rules, ObjectResult out) {
        if (key == null || key.length < 1 || key.length > ObjectFlyweight.MAX_KEY_BYTES
                || value == null || value.length > maxValueBytes) {
            return Status.INVALID_ARGUMENT;
        }
        long keyHash = KeyHash.hash(key);
        long hash = indexHash(tableId, keyHash);
        log.lock();
        int token = epochs.enter();
        try {
            if (!ownership.owns(tableId, keyHash)) {
                return Status.UNKNOWN_TABLET;
            }
            if (rules != RejectRules.NONE) {
                long existing = hashTable.lookup(hash, tableId, key, 0, key.length, this);
                long oldVersion = 0;
                if (existing != 0) {
                    wrap(writerView, existing);
                    oldVersion = writerView.version();
                }
                Status verdict = rules.check(existing != 0, oldVersion);
                if (verdict != Status.OK) {
                    out.version = oldVersion;
                    out.dependsOn(existing != 0 ? positionOf(existing) : removalMarkLocked(hash));
                    return verdict;
                }
            }
            return appendObject(tableId, key, value, value.length, hash, out);
        } finally {
            epochs.exit(token);
            log.unlock();
        }
    }

    /** Appends and indexes a new object version; caller holds the lock and an epoch. */
    private Status appendObject(long tableId, byte[] key, byte[] value, int valueLength, long hash, ObjectResult out) {
        long version = nextVersion;
        int framed = EntryDescriptor.framedLength(
                ObjectFlyweight.payloadLength(tableId, version, key.length, valueLength));
        if (!log.reserve(framed)) {
            return Status.RETRY;
        }
        LogSegment head = log.head();
        SegmentWriter writer = head.writer();
        long offset = writer.appendObject(tableId, key, 0, key.length, value, 0, valueLength, version,
                (int) context.clockSeconds().getAsLong());
        if (offset < 0) {
            throw new IllegalStateException("append failed after space was reserved: " + offset);
        }
        nextVersion = version + 1;
        long reference = log.reference(head, offset);
        putAndIndex(tableId, key, key.length, hash, reference, version, head, framed, key.length + valueLength);
        out.version = version;
        if (hashTable.resizeIfNeeded(this::rehash)) {
            epochs.reclaim();
        }
        out.appended(head.id(), writer.position());
        context.replicationHook().sync(head.id(), writer.position(), writer.certificateChecksum());
        return Status.OK;
    }

    /** Removes an object unless {@code rules} refuse; {@code out.version()} is the removed version. */
    public Status remove(long tableId, byte[] key, RejectRules rules, ObjectResult out) {
        if (key == null || key.length < 1 || key.length > ObjectFlyweight.MAX_KEY_BYTES) {
            return Status.INVALID_ARGUMENT;
        }
        long keyHash = KeyHash.hash(key);
        long hash = indexHash(tableId, keyHash);
        log.lock();
        int token = epochs.enter();
        try {
            if (!ownership.owns(tableId, keyHash)) {
                return Status.UNKNOWN_TABLET;
            }
            long existing = hashTable.lookup(hash, tableId, key, 0, key.length, this);
            if (existing == 0) {
                out.version = 0;
                out.dependsOn(removalMarkLocked(hash));
                return Status.OBJECT_DOESNT_EXIST;
            }
            wrap(writerView, existing);
            long version = writerView.version();
            Status verdict = rules.check(true, version);
            if (verdict != Status.OK) {
                out.version = version;
                out.dependsOn(positionOf(existing));
                return verdict;
            }
            // The tombstone names the segment that holds the object when it is unlinked; the
            // cleaner may move the object until then, so reserve first and name it after.
            int tombstoneFramed = EntryDescriptor.framedLength(
                    TombstoneFlyweight.payloadLength(tableId, version, Long.MAX_VALUE, key.length));
            if (!log.reserve(tombstoneFramed, log.tombstoneFloorSeglets())) {
                return Status.RETRY;
            }
            // Readers that find the key gone from here on must wait for the tombstone: mark the
            // stripe pending first (the unlink below is a volatile write, so a reader that sees
            // the key gone sees the mark), then its real position once the tombstone is in.
            int stripe = stripeOf(hash);
            MARK.setVolatile(removalMarks, stripe, PENDING);
            NEWEST_REMOVAL.setVolatile(this, PENDING);
            unlinkWithTombstone(hash, tableId, key, key.length, version);
            LogSegment head = log.head();
            long tombstoneEnd = LogPosition.of(head.id(), head.writer().position());
            MARK.setRelease(removalMarks, stripe, tombstoneEnd);
            NEWEST_REMOVAL.setRelease(this, tombstoneEnd);
            out.version = version;
            if (hashTable.resizeIfNeeded(this::rehash)) {
                epochs.reclaim();
            }
            out.appended(head.id(), head.writer().position());
            context.replicationHook().sync(head.id(), head.writer().position(), head.writer().certificateChecksum());
            return Status.OK;
        } finally {
            epochs.exit(token);
            log.unlock();
        }
    }

    /** Adds {@code delta} to an 8-byte little-endian integer (absent counts as 0); {@code out.longValue()} is the sum. */
    public Status incrementLong(long tableId, byte[] key, long delta, RejectRules rules, ObjectResult out) {
        return increment(tableId, key, delta, 0, false, rules, out);
    }

    /** Adds {@code delta} to an 8-byte little-endian IEEE double (absent counts as 0.0). */
    public Status incrementDouble(long tableId, byte[] key, double delta, RejectRules rules, ObjectResult out) {
        return increment(tableId, key, 0, delta, true, rules, out);
    }

    private Status increment(long tableId, byte[] key, long longDelta, double doubleDelta, boolean isDouble,
                             RejectRules rules, ObjectResult out) {
        if (key == null || key.length < 1 || key.length > ObjectFlyweight.MAX_KEY_BYTES) {
            return Status.INVALID_ARGUMENT;
        }
        long keyHash = KeyHash.hash(key);
        long hash = indexHash(tableId, keyHash);
        log.lock();
        int token = epochs.enter();
        try {
            if (!ownership.owns(tableId, keyHash)) {
                return Status.UNKNOWN_TABLET;
            }
            long existing = hashTable.lookup(hash, tableId, key, 0, key.length, this);
            long oldVersion = 0;
            long oldBits = 0;
            if (existing != 0) {
                wrap(writerView, existing);
                oldVersion = writerView.version();
                if (writerView.valueLength() != 8) {
                    out.version = oldVersion;
                    out.dependsOn(positionOf(existing));
                    return Status.NOT_A_NUMBER;
                }
                oldBits = writerView.memory().getLong(writerView.valueOffset());
            }
            Status verdict = rules.check(existing != 0, oldVersion);
            if (verdict != Status.OK) {
                out.version = oldVersion;
                out.dependsOn(existing != 0 ? positionOf(existing) : removalMarkLocked(hash));
                return verdict;
            }
            long newBits;
            if (isDouble) {
                double sum = (existing != 0 ? Double.longBitsToDouble(oldBits) : 0.0) + doubleDelta;
                out.doubleValue = sum;
                newBits = Double.doubleToRawLongBits(sum);
            } else {
                long sum = oldBits + longDelta;
                out.longValue = sum;
                newBits = sum;
            }
            byte[] value = out.scratch8;
            for (int i = 0; i < 8; i++) {
                value[i] = (byte) (newBits >>> (8 * i));
            }
            return appendObject(tableId, key, value, 8, hash, out);
        } finally {
            epochs.exit(token);
            log.unlock();
        }
    }

    // ---- enumeration and table removal ----

    /** Receives enumerated objects; the arrays are fresh copies the visitor may keep. */
    @FunctionalInterface
    public interface ObjectVisitor {
        void visit(byte[] key, byte[] value, long version, long timestampSeconds, long keyHash);

        /**
         * Called right after each {@link #visit}: the {@link LogPosition} revealing that object
         * depends on ({@link LogPosition#NONE} for cleaner output). Ignored by default.
         */
        default void dependsOn(long position) {
        }
    }

    /**
     * Visits up to {@code limit} objects of {@code tableId} whose key hash lies in
     * {@code [startHash, endHash]} (unsigned) and that come after the cursor
     * {@code (afterHash, afterKey)} in {@link #compareCursor cursor order}, in that order. Start
     * with {@code afterKey == null} (and {@code afterHash} ignored); resume with the hash and key
     * of the last object visited. Lock-free: objects written meanwhile may or may not be seen.
     * What a batch reveals depends on the positions given to {@link ObjectVisitor#dependsOn}
     * and, for the keys it shows gone, on {@link #newestRemovalPosition()} read after the pass.
     * Cursor order follows the hash table's buckets, not the hash range, so one pass over a range
     * walks every bucket of this master's table (filtering by range as it goes).
     *
     * @return the number of objects visited; fewer than {@code limit} means the range is done
     */
    public int enumerate(long tableId, long startHash, long endHash, long afterHash, byte[] afterKey, int limit,
                         ObjectVisitor visitor) {
        if (Long.compareUnsigned(startHash, endHash) > 0) {
            return 0;
        }
        return enumerate(tableId, hash -> Long.compareUnsigned(hash, startHash) >= 0
                && Long.compareUnsigned(hash, endHash) <= 0, afterHash, afterKey, limit, visitor);
    }

    /**
     * Like {@link #enumerate(long, long, long, long, byte[], int, ObjectVisitor)}, for the
     * objects whose key hash {@code hashFilter} accepts (several tablets in one pass: a cursor
     * orders objects across ranges, so ranges cannot be enumerated one after the other).
     */
    public int enumerate(long tableId, java.util.function.LongPredicate hashFilter, long afterHash, byte[] afterKey,
                         int limit, ObjectVisitor visitor) {
        return enumerate(tableId, hashFilter, afterHash, afterKey, limit, Long.MAX_VALUE, visitor);
    }

    /** The live objects with a version below {@code versionCut} (a snapshot's live part). */
    private int enumerate(long tableId, java.util.function.LongPredicate hashFilter, long afterHash, byte[] afterKey,
                          int limit, long versionCut, ObjectVisitor visitor) {
        if (limit <= 0) {
            return 0;
        }
        int token = epochs.enter();
        try {
            int visited = 0;
            java.util.ArrayList<Candidate> bucket = new java.util.ArrayList<>();
            ObjectFlyweight view = new ObjectFlyweight();
            // The cursor moves with every object visited, so a resize of the table between two
            // buckets (which renumbers them) only means finding the cursor's bucket again.
            long[] cursorHash = {afterHash};
            byte[][] cursorKey = {afterKey};
            long buckets = hashTable.bucketCount();
            for (long b = afterKey == null ? 0 : hashTable.bucketOf(afterHash); visited < limit; b++) {
                if (hashTable.bucketCount() != buckets) {
                    buckets = hashTable.bucketCount();
                    b = cursorKey[0] == null ? 0 : hashTable.bucketOf(cursorHash[0]);
                }
                if (b >= buckets) {
                    break;
                }
                bucket.clear();
                hashTable.forEachInBucket(b, reference -> {
                    wrap(view, reference);
                    if (view.tableId() == tableId && view.version() < versionCut) {
                        byte[] key = view.key();
                        long hash = KeyHash.hash(key);
                        if (hashFilter.test(hash) && (cursorKey[0] == null || compareCursor(hash, key, cursorHash[0], cursorKey[0]) > 0)) {
                            bucket.add(new Candidate(hash, key, view.value(), view.version(), view.timestampSeconds(),
                                    positionOf(reference)));
                        }
                    }
                });
                bucket.sort((x, y) -> compareCursor(x.hash(), x.key(), y.hash(), y.key()));
                for (Candidate c : bucket) {
                    if (visited == limit) {
                        break;
                    }
                    visitor.visit(c.key(), c.value(), c.version(), c.timestampSeconds(), c.hash());
                    visitor.dependsOn(c.position());
                    cursorHash[0] = c.hash();
                    cursorKey[0] = c.key();
                    visited++;
                }
            }
            return visited;
        } finally {
            epochs.exit(token);
        }
    }

    private record Candidate(long hash, byte[] key, byte[] value, long version, long timestampSeconds, long position) {
    }

    /**
     * Cursor order: by the hash table's {@link HashTable#indexOrder index order} of the key hash
     * (unsigned), then by key bytes (unsigned). The same on every master, so a cursor stays valid
     * when its tablet moves.
     */
    public static int compareCursor(long hash, byte[] key, long otherHash, byte[] otherKey) {
        int byHash = Long.compareUnsigned(HashTable.indexOrder(hash), HashTable.indexOrder(otherHash));
        return byHash != 0 ? byHash : java.util.Arrays.compareUnsigned(key, otherKey);
    }

    /**
     * Removes every object of {@code tableId} (a dropped table). No tombstones are written: a
     * dropped table's id is never reused and recovery replays only tablets that still exist.
     * Withdraw the table from {@link TabletOwnership} first: mutations check ownership under the
     * append lock this takes, so none lands after the drop.
     *
     * @return the number of objects removed
     */
    public long dropTable(long tableId) {
        log.lock();
        int token = epochs.enter();
        try {
            java.util.ArrayList<byte[]> keys = new java.util.ArrayList<>();
            hashTable.forEach(reference -> {
                wrap(writerView, reference);
                if (writerView.tableId() == tableId) {
                    keys.add(writerView.key());
                }
            });
            for (byte[] key : keys) {
                long removed = unlinkForDrop(tableId, key, true);
                if (removed == 0) {
                    continue;
                }
                int framed = framedLengthAt(removed);
                wrap(writerView, removed);
                liveEntryBytes -= framed;
                liveKeyValueBytes -= writerView.keyLength() + writerView.valueLength();
            }
            tables.remove(tableId);
            if (lastCounters.tableId() == tableId) {
                lastCounters = new TableCounters(Long.MIN_VALUE);
            }
            if (hashTable.resizeIfNeeded(this::rehash)) {
                epochs.reclaim();
            }
            return keys.size();
        } finally {
            epochs.exit(token);
            log.unlock();
        }
    }

    /**
     * Takes (table, key) out of the index without a tombstone (a drop) and stops counting it
     * live in its segment, unless a snapshot still sees it ({@code keepForSnapshots}: a dropped
     * table's snapshots outlive it). Caller holds the append lock and an epoch.
     *
     * @return the reference taken out, or 0
     */
    private long unlinkForDrop(long tableId, byte[] key, boolean keepForSnapshots) {
        long hash = indexHash(tableId, KeyHash.hash(key));
        boolean tracked = keepForSnapshots && snapshots.tracks(tableId);
        if (tracked) {
            snapshots.lockForWrite();
        }
        try {
            long removed = hashTable.remove(hash, tableId, key, 0, key.length, this);
            if (removed != 0 && !(tracked && keepDisplaced(tableId, hash, removed, nextVersion))) {
                log.segmentOf(removed).addLiveBytes(-framedLengthAt(removed));
            }
            return removed;
        } finally {
            if (tracked) {
                snapshots.unlockForWrite();
            }
        }
    }

    // ---- snapshots (master.snapshot holds them) ----

    /**
     * Takes a snapshot of the ranges of {@code tableId} given (those this master owns): a cut in
     * the version counter, consuming one version. Copies nothing. Idempotent per snapshot id.
     *
     * @param out receives the head position the snapshot depends on (everything below the cut
     *            is in the log before it): wait for it to be durable before reporting the snapshot taken
     */
    public Snapshot takeSnapshot(long tableId, long snapshotId, long[] rangeStarts, long[] rangeEnds, ObjectResult out) {
        log.lock();
        try {
            Snapshot existing = snapshots.snapshot(tableId, snapshotId);
            if (existing == null) {
                TableCounters counters = tables.get(tableId);
                existing = snapshots.register(new Snapshot(tableId, snapshotId, nextVersion++, rangeStarts, rangeEnds,
                        context.clockSeconds().getAsLong(), counters == null ? 0 : counters.objects,
                        counters == null ? 0 : counters.bytes));
            }
            out.dependsOn(headPosition());
            return existing;
        } finally {
            log.unlock();
        }
    }

    /** A snapshot held here, or null. */
    public Snapshot snapshot(long tableId, long snapshotId) {
        return snapshots.snapshot(tableId, snapshotId);
    }

    /** Every snapshot held here. */
    public java.util.List<Snapshot> snapshots() {
        return snapshots.snapshots();
    }

    /**
     * Reads an object as a snapshot sees it, into {@code out} like {@link #read}.
     *
     * @return OK, OBJECT_DOESNT_EXIST, SNAPSHOT_DOESNT_EXIST (not held here), UNKNOWN_TABLET (the
     *         key's range is not in this master's part of the snapshot) or INVALID_ARGUMENT
     */
    public Status readSnapshot(long tableId, long snapshotId, byte[] key, ObjectResult out) {
        if (key == null || key.length < 1 || key.length > ObjectFlyweight.MAX_KEY_BYTES) {
            return Status.INVALID_ARGUMENT;
        }
        Snapshot snapshot = snapshots.snapshot(tableId, snapshotId);
        if (snapshot == null) {
            return Status.SNAPSHOT_DOESNT_EXIST;
        }
        long keyHash = KeyHash.hash(key);
        if (!snapshot.covers(keyHash)) {
            return Status.UNKNOWN_TABLET;
        }
        long hash = indexHash(tableId, keyHash);
        long cut = snapshot.cut();
        int token = epochs.enter();
        snapshots.lockForRead();
        try {
            long reference = hashTable.lookup(hash, tableId, key, 0, key.length, this);
            if (reference != 0) {
                wrap(out.view, reference);
                if (out.view.version() >= cut) {
                    reference = 0;
                }
            }
            if (reference == 0) {
                reference = snapshots.find(tableId, hash, cut, ref -> matches(ref, tableId, key, 0, key.length));
            }
            out.dependsOn(LogPosition.NONE);
            if (reference == 0) {
                out.version = 0;
                out.valueLength = 0;
                return Status.OBJECT_DOESNT_EXIST;
            }
            ObjectFlyweight view = out.view;
            wrap(view, reference);
            out.version = view.version();
            out.timestampSeconds = view.timestampSeconds();
            byte[] buffer = out.valueBuffer(view.valueLength());
            view.memory().copyTo(view.valueOffset(), buffer, 0, view.valueLength());
            return Status.OK;
        } finally {
            snapshots.unlockForRead();
            epochs.exit(token);
        }
    }

    /**
     * Visits up to {@code limit} objects a snapshot sees, in {@link #compareCursor cursor order}
     * after the cursor (as {@link #enumerate} does for live objects).
     *
     * @return the number visited (fewer than {@code limit}: done), or -1 if the snapshot is not held here
     */
    public int enumerateSnapshot(long tableId, long snapshotId, long afterHash, byte[] afterKey, int limit,
                                 ObjectVisitor visitor) {
        Snapshot snapshot = snapshots.snapshot(tableId, snapshotId);
        if (snapshot == null) {
            return -1;
        }
        if (limit <= 0) {
            return 0;
        }
        long cut = snapshot.cut();
        java.util.ArrayList<Candidate> merged = new java.util.ArrayList<>();
        // Live objects below the cut, and kept ones visible at it: disjoint (a key whose live
        // object is below the cut has nothing kept that the cut can see).
        enumerate(tableId, snapshot::covers, afterHash, afterKey, limit, cut, (k, v, version, ts, h) ->
                merged.add(new Candidate(h, k, v, version, ts, LogPosition.NONE)));
        int token = epochs.enter();
        snapshots.lockForRead();
        try {
            ObjectFlyweight view = new ObjectFlyweight();
            java.util.ArrayList<Candidate> kept = new java.util.ArrayList<>();
            long from = afterKey == null ? 0 : HashTable.indexOrder(afterHash);
            snapshots.forEachVisible(tableId, cut, from, entry -> {
                wrap(view, entry.reference());
                byte[] key = view.key();
                long hash = KeyHash.hash(key);
                if (snapshot.covers(hash) && (afterKey == null || compareCursor(hash, key, afterHash, afterKey) > 0)) {
                    kept.add(new Candidate(hash, key, view.value(), view.version(), view.timestampSeconds(), LogPosition.NONE));
                }
                // Enough once `limit` are taken, after every entry sharing the index order of the
                // limit-th (their keys decide which of them come first).
                return kept.size() < limit
                        || HashTable.indexOrder(entry.hash()) == HashTable.indexOrder(kept.get(limit - 1).hash());
            });
            merged.addAll(kept);
        } finally {
            snapshots.unlockForRead();
            epochs.exit(token);
        }
        merged.sort((x, y) -> compareCursor(x.hash(), x.key(), y.hash(), y.key()));
        int visited = 0;
        for (Candidate c : merged) {
            if (visited == limit) {
                break;
            }
            visitor.visit(c.key(), c.value(), c.version(), c.timestampSeconds(), c.hash());
            visited++;
        }
        return visited;
    }

    /**
     * Drops a snapshot held here: the objects only it kept become garbage for the cleaner.
     *
     * @return false if it was not held here
     */
    public boolean dropSnapshot(long tableId, long snapshotId) {
        log.lock();
        int token = epochs.enter();
        try {
            java.util.List<SnapshotHistory.Kept> released = snapshots.drop(tableId, snapshotId);
            if (released == null) {
                return false;
            }
            snapshots.lockForWrite();
            try {
                for (SnapshotHistory.Kept kept : released) {
                    LogSegment segment = log.segmentOf(kept.reference());
                    segment.addLiveBytes(-kept.framedBytes());
                    segment.addSnapshotPins(-1);
                }
            } finally {
                snapshots.unlockForWrite();
            }
            return true;
        } finally {
            epochs.exit(token);
            log.unlock();
        }
    }

    /** Snapshots held here, objects they keep beyond the live ones, and those objects' framed bytes. */
    public SnapshotStats snapshotStats() {
        long[] kept = snapshots.keptObjectsAndBytes();
        return new SnapshotStats(snapshots.snapshotCount(), kept[0], kept[1]);
    }

    /** Per table id with snapshots here: framed bytes of the objects kept only for them. */
    public Map<Long, Long> snapshotKeptBytesByTable() {
        return snapshots.keptBytesByTable();
    }

    /** For tests in this package: the snapshot history itself. */
    SnapshotHistory snapshotHistory() {
        return snapshots;
    }

    /** @param keptBytes framed bytes of superseded objects kept in memory for snapshots */
    public record SnapshotStats(int snapshots, long keptObjects, long keptBytes) {
    }

    // ---- crash recovery (master.recovery drives these) ----

    /**
     * Recovery: appends a copy of a recovered object (the whole framed entry at
     * {@code entryOffset} of {@code source}, its version kept) unless this master already holds
     * the key at that version or a newer one. Ownership is not asked: the tablet is not this
     * master's until its recovery is done, so no client writes race with this. Replication learns
     * of the append at the next {@link #syncReplication()} (or any later write).
     *
     * @param key the object's key, copied out by the caller ({@code keyLength} bytes)
     * @return OK (appended), OBJECT_EXISTS (an equal or newer version is here: skipped), or
     *         RETRY (no memory: the caller waits for the cleaner or gives the partition up)
     */
    public Status replayObject(SegmentMemory source, long entryOffset, int framedLength, long tableId, byte[] key,
                               int keyLength, long version, int keyValueBytes) {
        long hash = indexHash(tableId, KeyHash.hash(key, 0, keyLength));
        log.lock();
        int token = epochs.enter();
        try {
            long existing = hashTable.lookup(hash, tableId, key, 0, keyLength, this);
            if (existing != 0) {
                wrap(writerView, existing);
                if (writerView.version() >= version) {
                    return Status.OBJECT_EXISTS;
                }
            }
            if (!log.reserve(framedLength)) {
                return Status.RETRY;
            }
            LogSegment head = log.head();
            SegmentWriter writer = head.writer();
            long offset = writer.appendCopy(source, entryOffset, framedLength);
            if (offset < 0) {
                throw new IllegalStateException("replay append failed after space was reserved: " + offset);
            }
            if (version >= nextVersion) {
                nextVersion = version + 1;
            }
            long reference = log.reference(head, offset);
            putAndIndex(tableId, key, keyLength, hash, reference, version, head, framedLength, keyValueBytes);
            if (hashTable.resizeIfNeeded(this::rehash)) {
                epochs.reclaim();
            }
            return Status.OK;
        } finally {
            epochs.exit(token);
            log.unlock();
        }
    }

    /**
     * Recovery: applies a recovered tombstone. If this master holds the key at the removed
     * version or an older one, the object is unlinked and a tombstone naming the segment that
     * held it is appended (so a later recovery of this master's log cannot bring it back);
     * a newer object is left alone.
     *
     * @return OK (removed here), OBJECT_DOESNT_EXIST (nothing to remove, or a newer version is
     *         here), or RETRY (no memory for the tombstone)
     */
    public Status replayTombstone(long tableId, byte[] key, int keyLength, long objectVersion) {
        long hash = indexHash(tableId, KeyHash.hash(key, 0, keyLength));
        log.lock();
        int token = epochs.enter();
        try {
            if (objectVersion >= nextVersion) {
                nextVersion = objectVersion + 1;
            }
            long existing = hashTable.lookup(hash, tableId, key, 0, keyLength, this);
            if (existing == 0) {
                return Status.OBJECT_DOESNT_EXIST;
            }
            wrap(writerView, existing);
            long version = writerView.version();
            if (version > objectVersion) {
                return Status.OBJECT_DOESNT_EXIST;
            }
            int tombstoneFramed = EntryDescriptor.framedLength(
                    TombstoneFlyweight.payloadLength(tableId, version, Long.MAX_VALUE, keyLength));
            if (!log.reserve(tombstoneFramed, log.tombstoneFloorSeglets())) {
                return Status.RETRY;
            }
            unlinkWithTombstone(hash, tableId, key, keyLength, version);
            return Status.OK;
        } finally {
            epochs.exit(token);
            log.unlock();
        }
    }

    /**
     * Unlinks (table, key) from the index and appends its tombstone, naming the segment that
     * held the object, with every counter a removal moves. The caller holds the append lock and
     * has reserved the tombstone's space.
     */
    private void unlinkWithTombstone(long hash, long tableId, byte[] key, int keyLength, long version) {
        boolean kept = false;
        long removed;
        if (snapshots.tracks(tableId)) {
            snapshots.lockForWrite();
            try {
                removed = hashTable.remove(hash, tableId, key, 0, keyLength, this);
                kept = keepDisplaced(tableId, hash, removed, nextVersion);
            } finally {
                snapshots.unlockForWrite();
            }
        } else {
            removed = hashTable.remove(hash, tableId, key, 0, keyLength, this);
        }
        LogSegment holder = log.segmentOf(removed);
        int removedFramed = framedLengthAt(removed);
        wrap(writerView, removed);
        long removedKeyValue = writerView.keyLength() + writerView.valueLength();
        LogSegment head = log.head();
        long offset = head.writer().appendTombstone(tableId, key, 0, keyLength, version, holder.id());
        if (offset < 0) {
            throw new IllegalStateException("tombstone append failed after space was reserved: " + offset);
        }
        int written = head.writer().position() - (int) offset;
        head.addLiveBytes(written);
        head.addTombstoneBytes(written);
        if (!kept) {
            holder.addLiveBytes(-removedFramed);
        }
        log.advanceClock(written);
        TableCounters counters = counters(tableId);
        counters.bytes -= removedFramed;
        counters.objects--;
        liveEntryBytes += written - removedFramed;
        liveKeyValueBytes -= removedKeyValue;
        tombstoneBytes += written;
    }

    /**
     * Recovery: tells replication how far the head is written. Replayed entries do not do it one
     * by one (that would wake the replication sender once per object); the replay calls this every
     * few hundred KiB and at the end. No speed-up from this was measurable on the loaded 2-core
     * machine it was tried on.
     */
    public void syncReplication() {
        log.lock();
        try {
            LogSegment head = log.head();
            context.replicationHook().sync(head.id(), head.writer().position(), head.writer().certificateChecksum());
        } finally {
            log.unlock();
        }
    }

    /**
     * Recovery: sizes the index for {@code objects} more before a replay inserts them, so it is
     * rebuilt once rather than at every growth step on the way (each rebuild re-reads every key
     * from the log, under the append lock). {@link #releaseIndex} gives the announcement back.
     */
    public void reserveIndex(long objects) {
        log.lock();
        int token = epochs.enter();
        try {
            if (hashTable.reserve(objects, this::rehash)) {
                epochs.reclaim();
            }
        } finally {
            epochs.exit(token);
            log.unlock();
        }
    }

    /** Recovery: the replay that announced {@code objects} is over; the index may shrink again. */
    public void releaseIndex(long objects) {
        log.lock();
        try {
            hashTable.release(objects);
        } finally {
            log.unlock();
        }
    }

    /** Recovery: no version handed out from now on is at or below {@code safeVersion} - 1. */
    public void raiseNextVersion(long safeVersion) {
        log.lock();
        try {
            if (safeVersion > nextVersion) {
                nextVersion = safeVersion;
            }
        } finally {
            log.unlock();
        }
    }

    /**
     * Recovery: forgets every object whose (table, key hash) {@code inRanges} accepts, as a
     * table drop does (what an abandoned recovery attempt left here). Only for ranges this
     * master does not own.
     *
     * @return the number of objects removed
     */
    public long dropWhere(java.util.function.LongPredicate tables, KeyHashTest inRanges) {
        log.lock();
        int token = epochs.enter();
        try {
            java.util.ArrayList<byte[]> keys = new java.util.ArrayList<>();
            java.util.ArrayList<Long> tableIds = new java.util.ArrayList<>();
            hashTable.forEach(reference -> {
                wrap(writerView, reference);
                if (tables.test(writerView.tableId())) {
                    byte[] key = writerView.key();
                    if (inRanges.test(writerView.tableId(), KeyHash.hash(key))) {
                        keys.add(key);
                        tableIds.add(writerView.tableId());
                    }
                }
            });
            for (int i = 0; i < keys.size(); i++) {
                byte[] key = keys.get(i);
                long tableId = tableIds.get(i);
                long removed = unlinkForDrop(tableId, key, false);
                if (removed == 0) {
                    continue;
                }
                int framed = framedLengthAt(removed);
                wrap(writerView, removed);
                liveEntryBytes -= framed;
                liveKeyValueBytes -= writerView.keyLength() + writerView.valueLength();
                TableCounters counters = counters(tableId);
                counters.bytes -= framed;
                counters.objects--;
            }
            if (hashTable.resizeIfNeeded(this::rehash)) {
                epochs.reclaim();
            }
            return keys.size();
        } finally {
            epochs.exit(token);
            log.unlock();
        }
    }

    /** Whether a (table, key hash) is in some set of ranges. */
    @FunctionalInterface
    public interface KeyHashTest {
        boolean test(long tableId, long keyHash);
    }

    /**
     * Recovery: bytes of live entries this master could still take (memory minus live entries,
     * the objects snapshots keep, and the cleaner's reserve); a partition estimated above it is
     * declined.
     */
    public long roomBytes() {
        long kept = snapshots.keptObjectsAndBytes()[1];
        log.lock();
        try {
            return context.memoryBytes() - liveEntryBytes - kept
                    - (long) log.writerFloorSeglets() * SegletPool.SEGLET_SIZE_BYTES;
        } finally {
            log.unlock();
        }
    }

    /**
     * Publishes an appended object in the index, keeps what it displaced if a snapshot can see
     * that, and moves the statistics. Caller holds the append lock and an epoch.
     */
    private void putAndIndex(long tableId, byte[] key, int keyLength, long hash, long reference, long version,
                             LogSegment head, int framed, long keyValueBytes) {
        if (!snapshots.tracks(tableId)) {
            indexed(tableId, head, framed, keyValueBytes, hashTable.put(hash, tableId, key, 0, keyLength, reference, this),
                    false);
            return;
        }
        snapshots.lockForWrite();
        try {
            long previous = hashTable.put(hash, tableId, key, 0, keyLength, reference, this);
            indexed(tableId, head, framed, keyValueBytes, previous, previous != 0 && keepDisplaced(tableId, hash, previous, version));
        } finally {
            snapshots.unlockForWrite();
        }
    }

    /** Keeps a displaced object for the snapshots that see it; caller holds both locks. */
    private boolean keepDisplaced(long tableId, long hash, long displaced, long supersededAt) {
        wrap(writerView, displaced);
        return snapshots.keep(tableId, hash, displaced, writerView.version(), supersededAt, framedLengthAt(displaced),
                log.segmentOf(displaced));
    }

    /**
     * Index and statistics after appending an object: caller holds the lock.
     *
     * @param previousKept a snapshot keeps the displaced object, so its segment still counts it live
     */
    private void indexed(long tableId, LogSegment head, int framed, long keyValueBytes, long previous,
                         boolean previousKept) {
        head.addLiveBytes(framed);
        log.advanceClock(framed);
        TableCounters counters = counters(tableId);
        long liveDelta = framed;
        long keyValueDelta = keyValueBytes;
        if (previous != 0) {
            int previousFramed = framedLengthAt(previous);
            wrap(writerView, previous);
            keyValueDelta -= writerView.keyLength() + writerView.valueLength();
            if (!previousKept) {
                log.segmentOf(previous).addLiveBytes(-previousFramed);
            }
            liveDelta -= previousFramed;
            counters.bytes += framed - previousFramed;
        } else {
            counters.bytes += framed;
            counters.objects++;
        }
        liveEntryBytes += liveDelta;
        liveKeyValueBytes += keyValueDelta;
    }

    // ---- log access helpers ----

    /**
     * True when the whole entry at {@code reference} lies within its seglet (nearly always), so
     * it can be read from the region at {@code reference} without finding its segment.
     */
    private boolean inOneSeglet(long reference) {
        long within = reference & (SegletPool.SEGLET_SIZE_BYTES - 1);
        int width = EntryDescriptor.lengthWidthOf(regionMemory.getByte(reference));
        if (within + 1 + width > SegletPool.SEGLET_SIZE_BYTES) {
            return false;
        }
        return within + 1 + width + regionMemory.getUnsigned(reference + 1, width) <= SegletPool.SEGLET_SIZE_BYTES;
    }

    private void wrap(ObjectFlyweight view, long reference) {
        SegmentMemory memory;
        long offset;
        if (inOneSeglet(reference)) {
            memory = regionMemory;
            offset = reference;
        } else {
            memory = log.segmentOf(reference).memory();
            offset = log.offsetOf(reference);
        }
        byte header = memory.getByte(offset);
        int width = EntryDescriptor.lengthWidthOf(header);
        int content = (int) memory.getUnsigned(offset + 1, width);
        if (!view.wrap(memory, offset + 1 + width + EntryDescriptor.CRC_BYTES, content - EntryDescriptor.CRC_BYTES)) {
            throw new IllegalStateException("malformed object in memory at reference " + Long.toHexString(reference));
        }
    }

    private int framedLengthAt(long reference) {
        int width = EntryDescriptor.lengthWidthOf(regionMemory.getByte(reference));
        if ((reference & (SegletPool.SEGLET_SIZE_BYTES - 1)) + 1 + width <= SegletPool.SEGLET_SIZE_BYTES) {
            return 1 + width + (int) regionMemory.getUnsigned(reference + 1, width);
        }
        SegmentMemory memory = log.segmentOf(reference).memory();
        long offset = log.offsetOf(reference);
        return 1 + width + (int) memory.getUnsigned(offset + 1, width);
    }

    /** Compares the key (and table) of the object at {@code reference}; thread-safe, allocation-free. */
    @Override
    public boolean matches(long reference, long tableId, byte[] key, int keyOffset, int keyLength) {
        if (inOneSeglet(reference)) {
            return matchesAt(regionMemory, reference, tableId, key, keyOffset, keyLength);
        }
        return matchesAt(log.segmentOf(reference).memory(), log.offsetOf(reference), tableId, key, keyOffset, keyLength);
    }

    private static boolean matchesAt(SegmentMemory memory, long entryOffset, long tableId, byte[] key, int keyOffset,
                                     int keyLength) {
        long p = entryOffset;
        p += 1 + EntryDescriptor.lengthWidthOf(memory.getByte(p)) + EntryDescriptor.CRC_BYTES;
        long table = 0;
        int shift = 0;
        byte b;
        do {
            b = memory.getByte(p++);
            table |= (long) (b & 0x7F) << shift;
            shift += 7;
        } while (b < 0);
        if (table != tableId) {
            return false;
        }
        do {
            b = memory.getByte(p++);
        } while (b < 0);
        p += 4;
        int length = 0;
        shift = 0;
        do {
            b = memory.getByte(p++);
            length |= (b & 0x7F) << shift;
            shift += 7;
        } while (b < 0);
        return length == keyLength && memory.equalsBytes(p, key, keyOffset, keyLength);
    }

    /** Index hash of the object at {@code reference}; used when the hash table grows (writer only). */
    private long rehash(long reference) {
        wrap(writerView, reference);
        int length = writerView.keyLength();
        writerView.memory().copyTo(writerView.keyOffset(), rehashKey, 0, length);
        return indexHash(writerView.tableId(), KeyHash.hash(rehashKey, 0, length));
    }

    private TableCounters counters(long tableId) {
        if (lastCounters.tableId() == tableId) {
            return lastCounters;
        }
        TableCounters counters = tables.get(tableId);
        if (counters == null) {
            counters = new TableCounters(tableId);
            tables.put(tableId, counters);
        }
        lastCounters = counters;
        return counters;
    }

    /** Table statistics, safe version: what every new head carries after its digest. */
    private boolean appendHeadMetadata(SegmentWriter writer) {
        int count = 0;
        long[] ids = new long[tables.size()];
        long[] bytes = new long[ids.length];
        long[] objects = new long[ids.length];
        for (TableCounters counters : tables.values()) {
            if (count == ids.length) {
                break;
            }
            ids[count] = counters.tableId();
            bytes[count] = counters.bytes;
            objects[count] = counters.objects;
            count++;
        }
        return writer.appendTableStats(ids, bytes, objects, count) >= 0 && writer.appendSafeVersion(nextVersion) >= 0;
    }

    // ---- called by the cleaner ----

    /** The cleaner dropped a tombstone of {@code framedBytes}. */
    public void tombstoneDropped(int framedBytes) {
        log.lock();
        try {
            tombstoneBytes -= framedBytes;
            liveEntryBytes -= framedBytes;
        } finally {
            log.unlock();
        }
    }

    /** Framed bytes of tombstones in the log (read racily by the cleaner's balancer). */
    public long tombstoneBytes() {
        return tombstoneBytes;
    }

    // ---- memory and statistics ----

    /**
     * Waits until the cleaner has freed memory, for a writer that got {@link Status#RETRY}.
     *
     * @return false if {@code timeoutNs} passed first
     */
    public boolean awaitFreeMemory(long timeoutNs) throws InterruptedException {
        epochs.reclaim();
        return log.awaitFreeMemory(timeoutNs);
    }

    public EngineStats stats() {
        log.lock();
        try {
            return new EngineStats(liveEntryBytes, liveKeyValueBytes, hashTable.size(), pool.totalSeglets(),
                    log.segletsHeld(), hashTable.memoryBytes(), log.segmentCount(), tombstoneBytes, cleaner.stats());
        } finally {
            log.unlock();
        }
    }

    /** Per-table counters (a copy). */
    public Map<Long, TableCounters> tableCounters() {
        return new HashMap<>(tables);
    }

    /** The next version this master will assign; no object has reached it. */
    public long safeVersion() {
        log.lock();
        try {
            return nextVersion;
        } finally {
            log.unlock();
        }
    }

    public MasterLog log() {
        return log;
    }

    public HashTable hashTable() {
        return hashTable;
    }

    public LogCleaner cleaner() {
        return cleaner;
    }

    public EpochManager epochs() {
        return epochs;
    }

    public EngineContext context() {
        return context;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        cleaner.close();
        log.lock();
        try {
            epochs.reclaim();
            hashTable.close();
            pool.close();
        } finally {
            log.unlock();
        }
    }
}
