package io.ferrite.bench.workload;

import java.util.Arrays;

/**
 * The live keys of a run and their current value sizes, in two parallel primitive arrays with
 * swap-remove: no object per key, so millions of keys cost 12 bytes each.
 */
final class LiveKeys {
    private long[] ids;
    private int[] sizes;
    private int count;

    LiveKeys(int initialCapacity) {
        ids = new long[Math.max(16, initialCapacity)];
        sizes = new int[ids.length];
    }

    int size() {
        return count;
    }

    long id(int index) {
        return ids[index];
    }

    int valueBytes(int index) {
        return sizes[index];
    }

    void setValueBytes(int index, int bytes) {
        sizes[index] = bytes;
    }

    void add(long id, int valueBytes) {
        if (count == ids.length) {
            int capacity = (int) Math.min(Integer.MAX_VALUE - 16, ids.length + (ids.length >> 1) + 16L);
            if (capacity <= count) {
                throw new IllegalStateException("too many live keys: " + count);
            }
            ids = Arrays.copyOf(ids, capacity);
            sizes = Arrays.copyOf(sizes, capacity);
        }
        ids[count] = id;
        sizes[count] = valueBytes;
        count++;
    }

    /** Removes the key at {@code index}; the last key moves into its place. */
    void removeAt(int index) {
        int last = --count;
        ids[index] = ids[last];
        sizes[index] = sizes[last];
    }
}
