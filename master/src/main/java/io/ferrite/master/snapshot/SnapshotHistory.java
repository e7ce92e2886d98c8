package io.ferrite.master.snapshot;

import io.ferrite.master.hashtable.HashTable;
import io.ferrite.master.log.LogSegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * A master's snapshots and the superseded objects they still read: a copy-on-write delta index.
 *
 * <p>A snapshot of a table is a <b>cut</b> in the master's version counter: it sees, for each
 * key, the object whose version is below the cut, if that object had not yet been superseded
 * when the snapshot was taken. Taking one copies nothing: live objects below the cut are read
 * through the hash table as they are. Only when a write or remove later displaces an object a
 * snapshot can see does the history {@linkplain #keep keep} that object's log reference, with the
 * version that superseded it (the new object's version, or for a remove the counter at that
 * moment). The object then stays in the log: its segment is {@linkplain LogSegment#snapshotPins
 * pinned} against combined cleaning, and compaction moves it with {@link #relocate}.
 *
 * <p>A kept object is visible in the snapshot with cut {@code c} when
 * {@code version < c < supersededAt}. Taking a snapshot consumes a version (the cut itself), so
 * a write or remove is unambiguously before or after every cut.
 *
 * <p>Locking: the read lock covers a snapshot read's hash-table lookup and history lookup
 * together; writers of a table with snapshots hold the write lock from the moment they displace
 * an object until it is kept, so a reader never sees an object gone from both places.
 * Registration and drops run under the log's append lock as well.
 */
public final class SnapshotHistory {
    /** A kept object: a log reference (moved by compaction) and what decides its visibility. */
    public static final class Kept {
        long reference;
        final long hash;
        final long tableId;
        final long version;
        final long supersededAt;
        final int framedBytes;

        Kept(long reference, long hash, long tableId, long version, long supersededAt, int framedBytes) {
            this.reference = reference;
            this.hash = hash;
            this.tableId = tableId;
            this.version = version;
            this.supersededAt = supersededAt;
            this.framedBytes = framedBytes;
        }

        public long reference() {
            return reference;
        }

        public long hash() {
            return hash;
        }

        public long version() {
            return version;
        }

        public int framedBytes() {
            return framedBytes;
        }

        boolean visibleAt(long cut) {
            return version < cut && cut < supersededAt;
        }
    }

    /** One table's snapshots on this master and the objects they keep, ordered like the index. */
    private static final class TableHistory {
        final Map<Long, Snapshot> byId = new ConcurrentHashMap<>();
        volatile long[] cuts = new long[0];
        final NavigableMap<Long, List<Kept>> keptByOrder = new TreeMap<>(Long::compareUnsigned);
        long keptBytes;

        long newestCut() {
            long[] c = cuts;
            return c.length == 0 ? 0 : c[c.length - 1];
        }

        boolean needed(long version, long supersededAt) {
            for (long cut : cuts) {
                if (version < cut && cut < supersededAt) {
                    return true;
                }
            }
            return false;
        }

        void recomputeCuts() {
            long[] c = byId.values().stream().mapToLong(Snapshot::cut).toArray();
            Arrays.sort(c);
            cuts = c;
        }
    }

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Map<Long, TableHistory> tables = new ConcurrentHashMap<>();
    private final Long2ObjectHashMap<Kept> byReference = new Long2ObjectHashMap<>();
    private long keptBytes;

    // ---- snapshots ----

    /**
     * Registers a snapshot (idempotent: the same id returns the snapshot already held). Caller
     * holds the append lock and has consumed {@code cut} from the version counter.
     */
    public Snapshot register(Snapshot snapshot) {
        lock.writeLock().lock();
        try {
            TableHistory table = tables.computeIfAbsent(snapshot.tableId(), id -> new TableHistory());
            Snapshot existing = table.byId.putIfAbsent(snapshot.snapshotId(), snapshot);
            if (existing != null) {
                return existing;
            }
            table.recomputeCuts();
            return snapshot;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The snapshot, or null if this master holds none with that id for the table. */
    public Snapshot snapshot(long tableId, long snapshotId) {
        TableHistory table = tables.get(tableId);
        return table == null ? null : table.byId.get(snapshotId);
    }

    /** Every snapshot held here, any table. */
    public List<Snapshot> snapshots() {
        List<Snapshot> all = new ArrayList<>();
        for (TableHistory table : tables.values()) {
            all.addAll(table.byId.values());
        }
        return all;
    }

    /**
     * Forgets a snapshot and gives back the objects no remaining snapshot of its table needs;
     * the caller un-pins their segments and stops counting them live (under the append lock).
     *
     * @return the released objects, or null if no such snapshot is held
     */
    public List<Kept> drop(long tableId, long snapshotId) {
        lock.writeLock().lock();
        try {
            TableHistory table = tables.get(tableId);
            if (table == null || table.byId.remove(snapshotId) == null) {
                return null;
            }
            table.recomputeCuts();
            List<Kept> released = new ArrayList<>();
            Iterator<List<Kept>> lists = table.keptByOrder.values().iterator();
            while (lists.hasNext()) {
                List<Kept> list = lists.next();
                list.removeIf(kept -> {
                    if (table.needed(kept.version, kept.supersededAt)) {
                        return false;
                    }
                    released.add(kept);
                    byReference.remove(kept.reference);
                    keptBytes -= kept.framedBytes;
                    table.keptBytes -= kept.framedBytes;
                    return true;
                });
                if (list.isEmpty()) {
                    lists.remove();
                }
            }
            if (table.byId.isEmpty()) {
                tables.remove(tableId);
            }
            return released;
        } finally {
            lock.writeLock().unlock();
        }
    }

    // ---- writers (hold the append lock and the write lock) ----

    /** Whether writes to this table may have to keep what they displace (caller holds the append lock). */
    public boolean tracks(long tableId) {
        return !tables.isEmpty() && tables.containsKey(tableId);
    }

    /** For a writer of a {@linkplain #tracks tracked} table: held from displacing an object until it is kept. */
    public void lockForWrite() {
        lock.writeLock().lock();
    }

    public void unlockForWrite() {
        lock.writeLock().unlock();
    }

    /**
     * Keeps a displaced object if some snapshot of its table can see it, pinning its segment.
     * Caller holds the append lock and {@link #lockForWrite()}.
     *
     * @param supersededAt the version of the object that replaced it, or for a removal the
     *                     version counter now (not consumed)
     * @return true if kept (the caller keeps counting its bytes live in {@code segment})
     */
    public boolean keep(long tableId, long hash, long reference, long version, long supersededAt, int framedBytes,
                        LogSegment segment) {
        TableHistory table = tables.get(tableId);
        if (table == null || !table.needed(version, supersededAt)) {
            return false;
        }
        Kept kept = new Kept(reference, hash, tableId, version, supersededAt, framedBytes);
        table.keptByOrder.computeIfAbsent(HashTable.indexOrder(hash), k -> new ArrayList<>(1)).add(kept);
        byReference.put(reference, kept);
        keptBytes += framedBytes;
        table.keptBytes += framedBytes;
        segment.addSnapshotPins(1);
        return true;
    }

    // ---- readers (hold the read lock) ----

    public void lockForRead() {
        lock.readLock().lock();
    }

    public void unlockForRead() {
        lock.readLock().unlock();
    }

    /** Matches a kept object's key against the one asked for (reads the log). */
    @FunctionalInterface
    public interface KeyTest {
        boolean matches(long reference);
    }

    /**
     * The kept object of (table, hash, key) visible at {@code cut}, or 0. Caller holds the read
     * lock (or the write lock) and an epoch.
     */
    public long find(long tableId, long hash, long cut, KeyTest key) {
        TableHistory table = tables.get(tableId);
        if (table == null) {
            return 0;
        }
        List<Kept> list = table.keptByOrder.get(HashTable.indexOrder(hash));
        if (list == null) {
            return 0;
        }
        for (Kept kept : list) {
            if (kept.hash == hash && kept.visibleAt(cut) && key.matches(kept.reference)) {
                return kept.reference;
            }
        }
        return 0;
    }

    /**
     * Kept objects of a table visible at {@code cut} whose index order is at or after
     * {@code fromOrder} (unsigned), in index order, until {@code visitor} says stop. Caller
     * holds the read lock and an epoch.
     */
    public void forEachVisible(long tableId, long cut, long fromOrder, KeptVisitor visitor) {
        TableHistory table = tables.get(tableId);
        if (table == null) {
            return;
        }
        for (List<Kept> list : table.keptByOrder.tailMap(fromOrder, true).values()) {
            for (Kept kept : list) {
                if (kept.visibleAt(cut) && !visitor.visit(kept)) {
                    return;
                }
            }
        }
    }

    /** Receives kept objects; returns false to stop. */
    @FunctionalInterface
    public interface KeptVisitor {
        boolean visit(Kept kept);
    }

    // ---- the cleaner ----

    /** Whether a snapshot keeps the object at {@code reference} (takes the read lock). */
    public boolean keeps(long reference) {
        if (tables.isEmpty()) {
            return false;
        }
        lock.readLock().lock();
        try {
            return byReference.containsKey(reference);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Compaction copied a kept object: the history now reads the copy, and the pin moves with it.
     *
     * @return false if no snapshot keeps it any more (the copy is dead)
     */
    public boolean relocate(long oldReference, long newReference, LogSegment from, LogSegment to) {
        lock.writeLock().lock();
        try {
            Kept kept = byReference.remove(oldReference);
            if (kept == null) {
                return false;
            }
            kept.reference = newReference;
            byReference.put(newReference, kept);
            from.addSnapshotPins(-1);
            to.addSnapshotPins(1);
            return true;
        } finally {
            lock.writeLock().unlock();
        }
    }

    // ---- statistics ----

    /** Objects kept for snapshots and their framed bytes. */
    public long[] keptObjectsAndBytes() {
        lock.readLock().lock();
        try {
            return new long[] {byReference.size(), keptBytes};
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Per table id with snapshots here: framed bytes of the objects kept for them. */
    public Map<Long, Long> keptBytesByTable() {
        lock.readLock().lock();
        try {
            Map<Long, Long> bytes = new java.util.HashMap<>();
            tables.forEach((id, table) -> bytes.put(id, table.keptBytes));
            return bytes;
        } finally {
            lock.readLock().unlock();
        }
    }

    public int snapshotCount() {
        int count = 0;
        for (TableHistory table : tables.values()) {
            count += table.byId.size();
        }
        return count;
    }

    /** Snapshots held of one table. */
    public Collection<Snapshot> snapshotsOf(long tableId) {
        TableHistory table = tables.get(tableId);
        return table == null ? List.of() : List.copyOf(table.byId.values());
    }
}
