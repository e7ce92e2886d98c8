package io.ferrite.bench.workload;

import java.util.SplittableRandom;

/** A uniform sample (reservoir) of removed key ids, to check afterwards that they stay removed. */
final class RemovedSample {
    private final long[] ids;
    private long seen;
    private int count;

    RemovedSample(int capacity) {
        ids = new long[capacity];
    }

    void offer(long id, SplittableRandom random) {
        seen++;
        if (count < ids.length) {
            ids[count++] = id;
        } else {
            long slot = random.nextLong(seen);
            if (slot < ids.length) {
                ids[(int) slot] = id;
            }
        }
    }

    int size() {
        return count;
    }

    long id(int index) {
        return ids[index];
    }
}
