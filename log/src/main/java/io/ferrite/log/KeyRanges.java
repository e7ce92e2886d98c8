package io.ferrite.log;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A set of inclusive ranges of the unsigned 64-bit key hash, each of one table: what a recovery
 * partition covers. Immutable; {@link #contains} is a scan, as a partition has a handful of
 * ranges.
 */
public final class KeyRanges {
    private final long[] tableIds;
    private final long[] starts;
    private final long[] ends;

    private KeyRanges(long[] tableIds, long[] starts, long[] ends) {
        this.tableIds = tableIds;
        this.starts = starts;
        this.ends = ends;
    }

    /** One range of a table. */
    public record Range(long tableId, long startHash, long endHash) {
        public Range {
            if (tableId == 0) {
                throw new IllegalArgumentException("table id 0 names no table");
            }
            if (Long.compareUnsigned(startHash, endHash) > 0) {
                throw new IllegalArgumentException("start hash " + Long.toUnsignedString(startHash)
                        + " is above end hash " + Long.toUnsignedString(endHash));
            }
        }

        public boolean contains(long table, long keyHash) {
            return table == tableId && Long.compareUnsigned(keyHash, startHash) >= 0
                    && Long.compareUnsigned(keyHash, endHash) <= 0;
        }

        @Override
        public String toString() {
            return "table " + tableId + " [" + Long.toHexString(startHash) + ", " + Long.toHexString(endHash) + "]";
        }
    }

    public static KeyRanges of(List<Range> ranges) {
        int n = ranges.size();
        long[] t = new long[n];
        long[] s = new long[n];
        long[] e = new long[n];
        for (int i = 0; i < n; i++) {
            Range r = ranges.get(i);
            t[i] = r.tableId();
            s[i] = r.startHash();
            e[i] = r.endHash();
        }
        return new KeyRanges(t, s, e);
    }

    public boolean contains(long tableId, long keyHash) {
        for (int i = 0; i < tableIds.length; i++) {
            if (tableIds[i] == tableId && Long.compareUnsigned(keyHash, starts[i]) >= 0
                    && Long.compareUnsigned(keyHash, ends[i]) <= 0) {
                return true;
            }
        }
        return false;
    }

    public boolean isEmpty() {
        return tableIds.length == 0;
    }

    public List<Range> ranges() {
        List<Range> out = new ArrayList<>(tableIds.length);
        for (int i = 0; i < tableIds.length; i++) {
            out.add(new Range(tableIds[i], starts[i], ends[i]));
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyRanges k && Arrays.equals(tableIds, k.tableIds) && Arrays.equals(starts, k.starts)
                && Arrays.equals(ends, k.ends);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(tableIds) + Arrays.hashCode(starts)) + Arrays.hashCode(ends);
    }

    @Override
    public String toString() {
        return ranges().toString();
    }
}
