package io.ferrite.master.hashtable;

import io.ferrite.master.epoch.EpochManager;
import io.ferrite.master.memory.HugePages;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Maps keys to the log references of their objects. Off-heap, in 64-byte buckets of eight
 * 8-byte slots; a bucket that overflows turns its last slot into a link to an overflow bucket.
 *
 * <pre>
 *   slot (64 bits):
 *    63            48  47  46                                           0
 *   +----------------+---+----------------------------------------------+
 *   | tag (16 bits)  | C | log reference (47 bits)                      |
 *   +----------------+---+----------------------------------------------+
 *   tag: 16 bits of the index hash mixed (so independent of the bucket); C: chain bit (slot 7
 *   only): the low bits then hold the index of an overflow bucket. An empty slot is 0
 *   (reference 0 is never an object).
 *
 *   bucket (64 bytes):  | slot0 | slot1 | ... | slot6 | slot7 or chain |
 * </pre>
 *
 * The bucket is chosen by the <em>bit-reversed</em> index hash, scaled to the bucket count:
 * a master owns tablets, i.e. ranges of the hash's high bits, so the high bits of its keys'
 * hashes are far from uniform (a master holding a third of a table uses a third of the hash
 * space), while the low bits are. Reversing keeps the mapping monotone, so buckets are in
 * {@link #indexOrder} and enumeration can resume by bucket after a resize.
 *
 * <p>A lookup compares tags first and confirms a candidate by comparing the full key in the log
 * through a {@link KeyMatcher}. The table grows by 1.5x when it averages seven objects per
 * bucket (and shrinks when it falls under 4.2), so it stays between about 11 and 15 bytes
 * per object including overflow buckets, whatever the object size.
 *
 * <p>Concurrency: one writer at a time (the caller holds the log's append lock) inserts,
 * replaces and removes; any number of readers look up without locks; cleaner threads swing
 * references with {@link #relocate}. Every slot is read with acquire and written with
 * release/CAS semantics. The writer publishes a new overflow bucket only after filling it
 * (the chain link is installed by CAS, so a cleaner's concurrent relocation of the displaced
 * entry is never lost), and replaces or removes with get-and-set so it learns the reference
 * that was actually there. Growing builds a new table and publishes it with a volatile store;
 * cleaners are held off by a read-write lock meanwhile, readers keep using the old table, and
 * the old table's memory is released through the {@link EpochManager}.
 */
public final class HashTable {
    /** Confirms that the object at {@code reference} has this table id and key. Must be thread-safe. */
    public interface KeyMatcher {
        boolean matches(long reference, long tableId, byte[] key, int keyOffset, int keyLength);
    }

    /** Recomputes the index hash of the object at {@code reference} (used when growing). */
    public interface Rehasher {
        long indexHash(long reference);
    }

    public static final int BUCKET_BYTES = 64;
    public static final int SLOTS_PER_BUCKET = 8;
    public static final long REFERENCE_MASK = (1L << 47) - 1;
    private static final long CHAIN_BIT = 1L << 47;
    private static final int TAG_SHIFT = 48;
    private static final int OVERFLOW_CHUNK_BUCKETS = 1024;
    private static final long OVERFLOW_CHUNK_BYTES = (long) OVERFLOW_CHUNK_BUCKETS * BUCKET_BYTES;
    private static final double GROW_AT_OBJECTS_PER_BUCKET = 7.0;
    private static final double GROWTH_FACTOR = 1.5;
    // Shrinking below 4.2 objects per bucket keeps the table within 16 bytes per object; the
    // gap to the 4.67 a growth leaves makes a rebuild need a 10 % change in the object count.
    private static final double SHRINK_AT_OBJECTS_PER_BUCKET = 4.2;
    private static final double SHRINK_TO_OBJECTS_PER_BUCKET = 6.0;
    /** Index bytes per object past which a table of at least {@link #REBUILD_MIN_OBJECTS} is rebuilt. */
    private static final double REBUILD_AT_BYTES_PER_OBJECT = 15.5;
    private static final long REBUILD_MIN_OBJECTS = 20_000;
    private static final VarHandle SLOT = ValueLayout.JAVA_LONG.varHandle();

    /** One generation of the table: main buckets plus overflow chunks. */
    private static final class Table {
        final Arena arena = Arena.ofShared();
        final long bucketCount;
        final MemorySegment buckets;
        volatile MemorySegment[] overflow = new MemorySegment[0];
        int overflowUsed;

        Table(long bucketCount) {
            this.bucketCount = bucketCount;
            long bytes = bucketCount * BUCKET_BYTES;
            this.buckets = bytes >= HugePages.ALIGNMENT_BYTES
                    ? HugePages.allocate(arena, bytes)
                    : arena.allocate(bytes, BUCKET_BYTES);
        }

        long overflowBytes() {
            return (long) overflow.length * OVERFLOW_CHUNK_BUCKETS * BUCKET_BYTES;
        }
    }

    private final EpochManager epochs;
    private final ReentrantReadWriteLock growLock = new ReentrantReadWriteLock();
    private volatile Table table;
    private long objectCount;
    private long resizes;
    /** Objects at the last rebuild that gave back leftover overflow (-1: none yet). */
    private long objectsAtLastLeftoverRebuild = -1;
    private final long minimumBuckets;
    /** Objects announced by {@link #reserve} and not yet released: no shrinking meanwhile. */
    private long reservedObjects;

    public HashTable(long initialBuckets, EpochManager epochs) {
        if (initialBuckets < 1) {
            throw new IllegalArgumentException("initial bucket count must be positive: " + initialBuckets);
        }
        this.epochs = epochs;
        this.minimumBuckets = initialBuckets;
        this.table = new Table(initialBuckets);
    }

    private static long bucketIndex(Table t, long hash) {
        return Math.unsignedMultiplyHigh(indexOrder(hash), t.bucketCount);
    }

    /**
     * The position of a hash in bucket order: its bits reversed. Buckets hold ascending ranges
     * of it, so iterating buckets in order and sorting each bucket by it (then by key) visits
     * objects in one total order that does not depend on the table's size.
     */
    public static long indexOrder(long hash) {
        return Long.reverse(hash);
    }

    private static long tagOf(long hash) {
        return ((hash * 0x9E3779B97F4A7C15L) >>> TAG_SHIFT) << TAG_SHIFT;
    }

    private static long get(MemorySegment segment, long offset) {
        return (long) SLOT.getAcquire(segment, offset);
    }

    /** The overflow chunk holding the bucket a chain word links to. */
    private static MemorySegment overflowChunk(Table t, long word) {
        return t.overflow[(int) ((word & REFERENCE_MASK) / OVERFLOW_CHUNK_BUCKETS)];
    }

    /** Offset of that bucket within its chunk. */
    private static long overflowBase(long word) {
        return ((word & REFERENCE_MASK) % OVERFLOW_CHUNK_BUCKETS) * BUCKET_BYTES;
    }

    /** The reference stored for this key, or 0. Lock-free; safe from any thread. */
    public long lookup(long hash, long tableId, byte[] key, int keyOffset, int keyLength, KeyMatcher matcher) {
        Table t = table;
        long tag = tagOf(hash);
        MemorySegment segment = t.buckets;
        long base = bucketIndex(t, hash) * BUCKET_BYTES;
        for (;;) {
            boolean chained = false;
            for (int i = 0; i < SLOTS_PER_BUCKET; i++) {
                long word = get(segment, base + 8L * i);
                if (word == 0) {
                    continue;
                }
                if ((word & CHAIN_BIT) != 0) {
                    segment = overflowChunk(t, word);
                    base = overflowBase(word);
                    chained = true;
                    break;
                }
                if ((word & ~(CHAIN_BIT | REFERENCE_MASK)) == tag
                        && matcher.matches(word & REFERENCE_MASK, tableId, key, keyOffset, keyLength)) {
                    return word & REFERENCE_MASK;
                }
            }
            if (!chained) {
                return 0;
            }
        }
    }

    /**
     * Stores {@code reference} for this key, replacing any previous one. Writer only.
     *
     * @return the reference replaced (as it really was, even if a cleaner had just moved it), or 0
     */
    public long put(long hash, long tableId, byte[] key, int keyOffset, int keyLength, long reference,
                    KeyMatcher matcher) {
        Table t = table;
        long tag = tagOf(hash);
        long newWord = tag | reference;
        MemorySegment segment = t.buckets;
        long base = bucketIndex(t, hash) * BUCKET_BYTES;
        MemorySegment emptySegment = null;
        long emptyOffset = -1;
        for (;;) {
            boolean chained = false;
            for (int i = 0; i < SLOTS_PER_BUCKET; i++) {
                long offset = base + 8L * i;
                long word = get(segment, offset);
                if (word == 0) {
                    if (emptySegment == null) {
                        emptySegment = segment;
                        emptyOffset = offset;
                    }
                    continue;
                }
                if ((word & CHAIN_BIT) != 0) {
                    segment = overflowChunk(t, word);
                    base = overflowBase(word);
                    chained = true;
                    break;
                }
                if ((word & ~(CHAIN_BIT | REFERENCE_MASK)) == tag
                        && matcher.matches(word & REFERENCE_MASK, tableId, key, keyOffset, keyLength)) {
                    return ((long) SLOT.getAndSet(segment, offset, newWord)) & REFERENCE_MASK;
                }
            }
            if (!chained) {
                break;
            }
        }
        if (emptySegment != null) {
            SLOT.setRelease(emptySegment, emptyOffset, newWord);
        } else {
            chainNewBucket(t, segment, base + 8L * (SLOTS_PER_BUCKET - 1), newWord);
        }
        objectCount++;
        return 0;
    }

    /** Moves the entry in {@code lastSlot} to a fresh overflow bucket with {@code newWord} beside it. */
    private void chainNewBucket(Table t, MemorySegment segment, long lastSlot, long newWord) {
        int index = allocateOverflow(t);
        MemorySegment chunk = overflowChunk(t, index);
        long bucket = overflowBase(index);
        for (;;) {
            long displaced = get(segment, lastSlot);
            chunk.set(ValueLayout.JAVA_LONG, bucket, displaced);
            chunk.set(ValueLayout.JAVA_LONG, bucket + 8, newWord);
            if (SLOT.compareAndSet(segment, lastSlot, displaced, CHAIN_BIT | index)) {
                return;
            }
        }
    }

    private static int allocateOverflow(Table t) {
        MemorySegment[] chunks = t.overflow;
        if (t.overflowUsed == chunks.length * OVERFLOW_CHUNK_BUCKETS) {
            MemorySegment[] grown = java.util.Arrays.copyOf(chunks, chunks.length + 1);
            grown[chunks.length] = t.arena.allocate((long) OVERFLOW_CHUNK_BUCKETS * BUCKET_BYTES, BUCKET_BYTES);
            t.overflow = grown;
        }
        return t.overflowUsed++;
    }

    /**
     * Removes this key. Writer only.
     *
     * @return the reference removed, or 0 if the key was absent
     */
    public long remove(long hash, long tableId, byte[] key, int keyOffset, int keyLength, KeyMatcher matcher) {
        Table t = table;
        long tag = tagOf(hash);
        MemorySegment segment = t.buckets;
        long base = bucketIndex(t, hash) * BUCKET_BYTES;
        for (;;) {
            boolean chained = false;
            for (int i = 0; i < SLOTS_PER_BUCKET; i++) {
                long offset = base + 8L * i;
                long word = get(segment, offset);
                if (word == 0) {
                    continue;
                }
                if ((word & CHAIN_BIT) != 0) {
                    segment = overflowChunk(t, word);
                    base = overflowBase(word);
                    chained = true;
                    break;
                }
                if ((word & ~(CHAIN_BIT | REFERENCE_MASK)) == tag
                        && matcher.matches(word & REFERENCE_MASK, tableId, key, keyOffset, keyLength)) {
                    objectCount--;
                    return ((long) SLOT.getAndSet(segment, offset, 0L)) & REFERENCE_MASK;
                }
            }
            if (!chained) {
                return 0;
            }
        }
    }

    /** True when the slot for {@code hash} still holds exactly {@code reference}. Lock-free. */
    public boolean contains(long hash, long reference) {
        Table t = table;
        long expected = tagOf(hash) | reference;
        MemorySegment segment = t.buckets;
        long base = bucketIndex(t, hash) * BUCKET_BYTES;
        for (;;) {
            boolean chained = false;
            for (int i = 0; i < SLOTS_PER_BUCKET; i++) {
                long word = get(segment, base + 8L * i);
                if (word == expected) {
                    return true;
                }
                if ((word & CHAIN_BIT) != 0) {
                    segment = overflowChunk(t, word);
                    base = overflowBase(word);
                    chained = true;
                    break;
                }
            }
            if (!chained) {
                return false;
            }
        }
    }

    /**
     * Swings the slot holding {@code oldReference} to {@code newReference} (the cleaner moved the
     * object). Safe against the writer and other cleaners.
     *
     * @return false if the object is no longer there (overwritten or removed meanwhile)
     */
    public boolean relocate(long hash, long oldReference, long newReference) {
        growLock.readLock().lock();
        try {
            return relocateWhileHeld(hash, oldReference, newReference);
        } finally {
            growLock.readLock().unlock();
        }
    }

    /**
     * Keeps the table from being rebuilt until {@link #endRelocations()}, so a cleaner can
     * relocate a whole segment's entries with {@link #relocateWhileHeld} without a lock per entry.
     */
    public void beginRelocations() {
        growLock.readLock().lock();
    }

    public void endRelocations() {
        growLock.readLock().unlock();
    }

    /** {@link #relocate} for a caller between {@link #beginRelocations()} and {@link #endRelocations()}. */
    public boolean relocateWhileHeld(long hash, long oldReference, long newReference) {
        Table t = table;
        long tag = tagOf(hash);
        long expected = tag | oldReference;
        retry:
        for (;;) {
            MemorySegment segment = t.buckets;
            long base = bucketIndex(t, hash) * BUCKET_BYTES;
            for (;;) {
                boolean chained = false;
                for (int i = 0; i < SLOTS_PER_BUCKET; i++) {
                    long offset = base + 8L * i;
                    long word = get(segment, offset);
                    if (word == expected) {
                        if (SLOT.compareAndSet(segment, offset, expected, tag | newReference)) {
                            return true;
                        }
                        continue retry; // moved to an overflow bucket, or replaced: look again
                    }
                    if ((word & CHAIN_BIT) != 0) {
                        segment = overflowChunk(t, word);
                        base = overflowBase(word);
                        chained = true;
                        break;
                    }
                }
                if (!chained) {
                    return false;
                }
            }
        }
    }

    /**
     * Resizes the table when its load leaves the band that keeps it compact: grows by 1.5x
     * above seven objects per bucket, shrinks (to six per bucket, never below the initial
     * size) under 4.2. Writer only: the caller holds the append lock, so no insert or remove
     * runs meanwhile; readers keep using the old table until the new one is published.
     *
     * @return true if the table was rebuilt
     */
    public boolean resizeIfNeeded(Rehasher rehasher) {
        Table old = table;
        long newCount;
        if (objectCount > old.bucketCount * GROW_AT_OBJECTS_PER_BUCKET) {
            newCount = Math.max(old.bucketCount + 1, (long) Math.ceil(old.bucketCount * GROWTH_FACTOR));
        } else if (reservedObjects > 0) {
            return false;
        } else if (old.bucketCount > minimumBuckets && objectCount < old.bucketCount * SHRINK_AT_OBJECTS_PER_BUCKET) {
            // Too few objects per bucket: rebuild at six objects per bucket.
            newCount = Math.max(minimumBuckets, (long) Math.ceil(objectCount / SHRINK_TO_OBJECTS_PER_BUCKET));
        } else if (objectCount >= REBUILD_MIN_OBJECTS && bytesOf(old) > REBUILD_AT_BYTES_PER_OBJECT * objectCount
                && rebuiltMainBytes() + OVERFLOW_CHUNK_BYTES <= 0.85 * bytesOf(old)
                && leftoverRebuildMayRepeat()) {
            // Overflow buckets left over from a fuller past (they are reused but never given
            // back): rebuild at six objects per bucket. Not again until the object count has
            // moved by a tenth: if the rebuilt table overflows as much (keys whose hashes
            // cluster), rebuilding on every write would only burn time.
            newCount = Math.max(minimumBuckets, (long) Math.ceil(objectCount / SHRINK_TO_OBJECTS_PER_BUCKET));
            objectsAtLastLeftoverRebuild = objectCount;
        } else {
            return false;
        }
        rebuild(old, newCount, rehasher);
        return true;
    }

    /**
     * Announces a bulk insert (a recovery's replay): grows the table once, now, to hold
     * {@code objects} more at six per bucket, instead of rebuilding it again and again on the
     * way, and holds off shrinking until {@link #release} gives the announcement back (the
     * estimate may be high). Writer only, like {@link #resizeIfNeeded}.
     *
     * @return true if the table was rebuilt
     */
    public boolean reserve(long objects, Rehasher rehasher) {
        if (objects <= 0) {
            return false;
        }
        reservedObjects += objects;
        Table old = table;
        long expected = objectCount + objects;
        if (expected <= old.bucketCount * GROW_AT_OBJECTS_PER_BUCKET) {
            return false;
        }
        rebuild(old, (long) Math.ceil(expected / SHRINK_TO_OBJECTS_PER_BUCKET), rehasher);
        return true;
    }

    /** Gives back what {@link #reserve} announced; the table may shrink again from here. Writer only. */
    public void release(long objects) {
        reservedObjects = Math.max(0, reservedObjects - Math.max(0, objects));
    }

    private void rebuild(Table old, long newCount, Rehasher rehasher) {
        growLock.writeLock().lock();
        try {
            Table rebuilt = new Table(newCount);
            copyInto(old, old.buckets, rebuilt, rehasher);
            table = rebuilt;
            resizes++;
        } finally {
            growLock.writeLock().unlock();
        }
        epochs.retire(old.arena::close);
    }

    private boolean leftoverRebuildMayRepeat() {
        return objectsAtLastLeftoverRebuild < 0
                || Math.abs(objectCount - objectsAtLastLeftoverRebuild) * 10 >= objectsAtLastLeftoverRebuild;
    }

    private static void copyInto(Table from, MemorySegment bucketArea, Table to, Rehasher rehasher) {
        long buckets = bucketArea.byteSize() / BUCKET_BYTES;
        for (long b = 0; b < buckets; b++) {
            copyChain(from, bucketArea, b * BUCKET_BYTES, to, rehasher);
        }
    }

    private static void copyChain(Table from, MemorySegment segment, long base, Table to, Rehasher rehasher) {
        for (;;) {
            boolean chained = false;
            for (int i = 0; i < SLOTS_PER_BUCKET; i++) {
                long word = segment.get(ValueLayout.JAVA_LONG, base + 8L * i);
                if (word == 0) {
                    continue;
                }
                if ((word & CHAIN_BIT) != 0) {
                    segment = overflowChunk(from, word);
                    base = overflowBase(word);
                    chained = true;
                    break;
                }
                long reference = word & REFERENCE_MASK;
                insertFresh(to, rehasher.indexHash(reference), reference);
            }
            if (!chained) {
                return;
            }
        }
    }

    /** Inserts a reference known to be absent, into a table no one else sees yet. */
    private static void insertFresh(Table t, long hash, long reference) {
        MemorySegment segment = t.buckets;
        long base = bucketIndex(t, hash) * BUCKET_BYTES;
        for (;;) {
            for (int i = 0; i < SLOTS_PER_BUCKET; i++) {
                long word = segment.get(ValueLayout.JAVA_LONG, base + 8L * i);
                if (word == 0) {
                    segment.set(ValueLayout.JAVA_LONG, base + 8L * i, tagOf(hash) | reference);
                    return;
                }
                if ((word & CHAIN_BIT) != 0) {
                    segment = overflowChunk(t, word);
                    base = overflowBase(word);
                    break;
                }
                if (i == SLOTS_PER_BUCKET - 1) {
                    int index = allocateOverflow(t);
                    MemorySegment chunk = overflowChunk(t, index);
                    long bucket = overflowBase(index);
                    chunk.set(ValueLayout.JAVA_LONG, bucket, word);
                    chunk.set(ValueLayout.JAVA_LONG, bucket + 8, tagOf(hash) | reference);
                    segment.set(ValueLayout.JAVA_LONG, base + 8L * i, CHAIN_BIT | index);
                    return;
                }
            }
        }
    }

    /** Objects indexed. Exact when read by the writer. */
    public long size() {
        return objectCount;
    }

    /** Bytes of off-heap memory the index holds (main buckets plus overflow chunks). */
    public long memoryBytes() {
        return bytesOf(table);
    }

    /**
     * Main-bucket bytes of a table rebuilt at six objects per bucket; with one overflow chunk
     * added, a rebuild must still save 15 %, so it cannot repeat itself at the bucket floor.
     */
    private long rebuiltMainBytes() {
        return Math.max(minimumBuckets, (long) Math.ceil(objectCount / SHRINK_TO_OBJECTS_PER_BUCKET)) * BUCKET_BYTES;
    }

    private static long bytesOf(Table t) {
        return t.bucketCount * BUCKET_BYTES + t.overflowBytes();
    }

    public long bucketCount() {
        return table.bucketCount;
    }

    /** How many times the table has been rebuilt larger or smaller. */
    public long resizes() {
        return resizes;
    }

    /** The bucket {@code hash} falls in, in the current table (monotonic in the unsigned hash). */
    public long bucketOf(long hash) {
        return bucketIndex(table, hash);
    }


    /** Calls {@code visitor} with every reference in one bucket chain of the current table. Lock-free. */
    public void forEachInBucket(long bucket, java.util.function.LongConsumer visitor) {
        Table t = table;
        if (bucket < 0 || bucket >= t.bucketCount) {
            return;
        }
        visitChain(t, t.buckets, bucket * BUCKET_BYTES, visitor);
    }

    /** Calls {@code visitor} with every reference in the table. Writer only (or a quiesced table). */
    public void forEach(java.util.function.LongConsumer visitor) {
        Table t = table;
        forEachIn(t, t.buckets, visitor);
    }

    private static void forEachIn(Table t, MemorySegment area, java.util.function.LongConsumer visitor) {
        long buckets = area.byteSize() / BUCKET_BYTES;
        for (long b = 0; b < buckets; b++) {
            visitChain(t, area, b * BUCKET_BYTES, visitor);
        }
    }

    /** Calls {@code visitor} with every reference of the chain whose bucket is at {@code base} in {@code segment}. */
    private static void visitChain(Table t, MemorySegment segment, long base, java.util.function.LongConsumer visitor) {
        for (;;) {
            boolean chained = false;
            for (int i = 0; i < SLOTS_PER_BUCKET; i++) {
                long word = get(segment, base + 8L * i);
                if (word == 0) {
                    continue;
                }
                if ((word & CHAIN_BIT) != 0) {
                    segment = overflowChunk(t, word);
                    base = overflowBase(word);
                    chained = true;
                    break;
                }
                visitor.accept(word & REFERENCE_MASK);
            }
            if (!chained) {
                return;
            }
        }
    }

    /** Releases the table's memory. Only when no operation can still use it. */
    public void close() {
        table.arena.close();
    }
}
