package io.ferrite.master.tablet;

import io.ferrite.master.TabletOwnership;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The tablets this master serves: per table, disjoint inclusive ranges of the unsigned 64-bit
 * key hash. The engine asks {@link #owns} on every operation, so lookups are lock-free: the set
 * is an immutable sorted array (table id, then start hash unsigned) behind a volatile reference,
 * replaced whole by the rare writers (the coordinator's TakeTablets and DropTableData), which
 * are serialized by this object's monitor. Overlapping or adjacent ranges of a table are merged.
 */
public final class TabletSet implements TabletOwnership {
    /** One owned range. */
    public record Range(long tableId, long startHash, long endHash) {
        public boolean contains(long keyHash) {
            return Long.compareUnsigned(keyHash, startHash) >= 0 && Long.compareUnsigned(keyHash, endHash) <= 0;
        }

        @Override
        public String toString() {
            return "table " + tableId + " [" + Long.toUnsignedString(startHash, 16) + ", "
                    + Long.toUnsignedString(endHash, 16) + "]";
        }
    }

    /** Immutable columns, sorted by (tableId signed, startHash unsigned). */
    private static final class Snapshot {
        static final Snapshot EMPTY = new Snapshot(new long[0], new long[0], new long[0]);
        final long[] tableIds;
        final long[] starts;
        final long[] ends;

        Snapshot(long[] tableIds, long[] starts, long[] ends) {
            this.tableIds = tableIds;
            this.starts = starts;
            this.ends = ends;
        }

        int size() {
            return tableIds.length;
        }
    }

    private volatile Snapshot snapshot = Snapshot.EMPTY;

    /** Lock-free: whether {@code keyHash} of {@code tableId} lies in an owned range. */
    @Override
    public boolean owns(long tableId, long keyHash) {
        Snapshot s = snapshot;
        int i = floor(s, tableId, keyHash);
        return i >= 0 && s.tableIds[i] == tableId && Long.compareUnsigned(keyHash, s.ends[i]) <= 0;
    }

    /**
     * This set as the engine's {@link TabletOwnership}, owning nothing while {@code serving} (the
     * lease) is false. The engine asks it under its append lock, so a write racing a lost lease
     * or a drop ({@link #removeTable} or {@link #clear} first, then the engine's
     * {@code dropTable}) is applied before the drop or refused, never left behind (I10).
     */
    public TabletOwnership whileServing(java.util.function.BooleanSupplier serving) {
        return (tableId, keyHash) -> serving.getAsBoolean() && owns(tableId, keyHash);
    }

    /** Index of the last range whose (table, start) is at or before (tableId, hash); -1 if none. */
    private static int floor(Snapshot s, long tableId, long hash) {
        int low = 0;
        int high = s.size() - 1;
        int found = -1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            int cmp = compare(s.tableIds[mid], s.starts[mid], tableId, hash);
            if (cmp <= 0) {
                found = mid;
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        return found;
    }

    private static int compare(long tableA, long startA, long tableB, long startB) {
        int byTable = Long.compare(tableA, tableB);
        return byTable != 0 ? byTable : Long.compareUnsigned(startA, startB);
    }

    /** Whether any range of {@code tableId} is owned. */
    public boolean ownsAny(long tableId) {
        Snapshot s = snapshot;
        int i = floor(s, tableId, -1L);
        return i >= 0 && s.tableIds[i] == tableId;
    }

    /** The owned ranges of one table in hash order (a copy). */
    public List<Range> rangesOf(long tableId) {
        Snapshot s = snapshot;
        List<Range> ranges = new ArrayList<>();
        for (int i = 0; i < s.size(); i++) {
            if (s.tableIds[i] == tableId) {
                ranges.add(new Range(s.tableIds[i], s.starts[i], s.ends[i]));
            }
        }
        return ranges;
    }

    /** Every owned range (a copy), by table then hash. */
    public List<Range> all() {
        Snapshot s = snapshot;
        List<Range> ranges = new ArrayList<>(s.size());
        for (int i = 0; i < s.size(); i++) {
            ranges.add(new Range(s.tableIds[i], s.starts[i], s.ends[i]));
        }
        return ranges;
    }

    /** Number of disjoint ranges owned. */
    public int size() {
        return snapshot.size();
    }

    /**
     * Starts owning a range (idempotent: a range already covered changes nothing).
     *
     * @return whether the set changed
     * @throws IllegalArgumentException if start is above end (unsigned)
     */
    public synchronized boolean add(long tableId, long startHash, long endHash) {
        if (Long.compareUnsigned(startHash, endHash) > 0) {
            throw new IllegalArgumentException("start hash " + Long.toUnsignedString(startHash)
                    + " is above end hash " + Long.toUnsignedString(endHash));
        }
        List<Range> ranges = all();
        for (Range r : ranges) {
            if (r.tableId() == tableId && Long.compareUnsigned(r.startHash(), startHash) <= 0
                    && Long.compareUnsigned(r.endHash(), endHash) >= 0) {
                return false;
            }
        }
        ranges.add(new Range(tableId, startHash, endHash));
        snapshot = build(ranges);
        return true;
    }

    /**
     * Stops owning every range of a table.
     *
     * @return the number of ranges forgotten
     */
    public synchronized int removeTable(long tableId) {
        List<Range> ranges = all();
        int before = ranges.size();
        ranges.removeIf(r -> r.tableId() == tableId);
        if (ranges.size() != before) {
            snapshot = build(ranges);
        }
        return before - ranges.size();
    }

    /** Ids of the tables with at least one owned range, ascending. */
    public long[] tableIds() {
        return Arrays.stream(snapshot.tableIds).distinct().toArray();
    }

    /**
     * Keeps of a table's ranges only what lies within {@code allowed} (the intersection): never
     * adds, so it cannot resurrect a range a concurrent change removed.
     *
     * @param allowed ranges of {@code tableId}, in any order (their table ids are ignored)
     * @return whether the set changed
     */
    public synchronized boolean retainWithin(long tableId, List<Range> allowed) {
        List<Range> ranges = all();
        List<Range> kept = new ArrayList<>(ranges.size());
        for (Range r : ranges) {
            if (r.tableId() != tableId) {
                kept.add(r);
                continue;
            }
            for (Range a : allowed) {
                long start = Long.compareUnsigned(r.startHash(), a.startHash()) >= 0 ? r.startHash() : a.startHash();
                long end = Long.compareUnsigned(r.endHash(), a.endHash()) <= 0 ? r.endHash() : a.endHash();
                if (Long.compareUnsigned(start, end) <= 0) {
                    kept.add(new Range(tableId, start, end));
                }
            }
        }
        Snapshot next = build(kept);
        if (next.size() == snapshot.size() && all().equals(rangesOf(next))) {
            return false;
        }
        snapshot = next;
        return true;
    }

    private static List<Range> rangesOf(Snapshot s) {
        List<Range> ranges = new ArrayList<>(s.size());
        for (int i = 0; i < s.size(); i++) {
            ranges.add(new Range(s.tableIds[i], s.starts[i], s.ends[i]));
        }
        return ranges;
    }

    /**
     * Stops owning everything.
     *
     * @return the ids of the tables that had ranges
     */
    public synchronized long[] clear() {
        Snapshot s = snapshot;
        snapshot = Snapshot.EMPTY;
        return Arrays.stream(s.tableIds).distinct().toArray();
    }

    /** Sorts and merges overlapping or adjacent ranges of the same table. */
    private static Snapshot build(List<Range> input) {
        List<Range> sorted = new ArrayList<>(input);
        sorted.sort((a, b) -> compare(a.tableId(), a.startHash(), b.tableId(), b.startHash()));
        List<Range> merged = new ArrayList<>(sorted.size());
        for (Range r : sorted) {
            if (!merged.isEmpty()) {
                Range last = merged.get(merged.size() - 1);
                boolean touches = last.tableId() == r.tableId()
                        && (last.endHash() == -1L || Long.compareUnsigned(r.startHash(), last.endHash() + 1) <= 0);
                if (touches) {
                    long end = Long.compareUnsigned(r.endHash(), last.endHash()) > 0 ? r.endHash() : last.endHash();
                    merged.set(merged.size() - 1, new Range(last.tableId(), last.startHash(), end));
                    continue;
                }
            }
            merged.add(r);
        }
        long[] tables = new long[merged.size()];
        long[] starts = new long[merged.size()];
        long[] ends = new long[merged.size()];
        for (int i = 0; i < merged.size(); i++) {
            tables[i] = merged.get(i).tableId();
            starts[i] = merged.get(i).startHash();
            ends[i] = merged.get(i).endHash();
        }
        return new Snapshot(tables, starts, ends);
    }

    @Override
    public String toString() {
        return "TabletSet" + all();
    }
}
