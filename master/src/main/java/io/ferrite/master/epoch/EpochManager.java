package io.ferrite.master.epoch;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Tells when memory that is no longer reachable (a cleaned segment, an old hash table) can be
 * reused: only once every operation that started before it became unreachable has finished.
 *
 * <p>Operations bracket themselves with {@link #enter()} / {@link #exit(int)}: they count
 * themselves in one of two counters chosen by the parity of the global epoch, striped over
 * padded slots by thread to avoid contention. {@link #retire} tags a release action with the
 * current epoch {@code r}; the action runs once the epoch has advanced to {@code r + 2}. The
 * epoch advances from {@code e} to {@code e + 1} only when no operation of epoch
 * {@code e - 1} is still running (the counter of parity {@code e + 1} is zero), so by then every
 * operation that entered at {@code r} or earlier has exited.
 *
 * <p>An operation re-reads the epoch after counting itself and retries if it changed, so an
 * advance never misses an operation that registered under the old parity.
 */
public final class EpochManager {
    private static final int STRIPES = 64;
    private static final int PAD = 16; // longs between slots: 128 bytes
    private final AtomicLongArray counters = new AtomicLongArray(STRIPES * 2 * PAD);
    private volatile long epoch = 2;
    private final ArrayDeque<Retired> retired = new ArrayDeque<>();

    private record Retired(long epoch, Runnable release) {
    }

    /** Registers the calling operation; returns a token for {@link #exit}. */
    public int enter() {
        int stripe = (int) (Thread.currentThread().threadId() & (STRIPES - 1));
        for (;;) {
            long e = epoch;
            int slot = (stripe * 2 + (int) (e & 1)) * PAD;
            counters.getAndIncrement(slot);
            if (epoch == e) {
                return slot;
            }
            counters.getAndDecrement(slot);
        }
    }

    public void exit(int token) {
        counters.getAndDecrement(token);
    }

    /** Runs {@code release} once no operation that started before now can still be running. */
    public void retire(Runnable release) {
        synchronized (retired) {
            retired.addLast(new Retired(epoch, release));
        }
        reclaim();
    }

    /**
     * Advances the epoch as far as running operations allow and runs every release that has
     * become safe, on the calling thread.
     *
     * @return the number of releases run
     */
    public int reclaim() {
        tryAdvance();
        tryAdvance();
        int released = 0;
        for (;;) {
            Retired next;
            synchronized (retired) {
                next = retired.peekFirst();
                if (next == null || next.epoch() + 2 > epoch) {
                    return released;
                }
                retired.removeFirst();
            }
            next.release().run();
            released++;
        }
    }

    /** Releases still waiting for running operations to finish. */
    public int pendingReleases() {
        synchronized (retired) {
            return retired.size();
        }
    }

    public long epoch() {
        return epoch;
    }

    private synchronized void tryAdvance() {
        long e = epoch;
        int parity = (int) ((e + 1) & 1);
        for (int stripe = 0; stripe < STRIPES; stripe++) {
            if (counters.get((stripe * 2 + parity) * PAD) != 0) {
                return;
            }
        }
        epoch = e + 1;
    }
}
