package io.ferrite.backup;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.agrona.concurrent.IdleStrategy;

/**
 * Spins, yields, then parks for a time that doubles from {@code minParkNs} up to
 * {@code maxParkNs} (as Agrona's {@code BackoffIdleStrategy}); once the thread has found no work
 * for {@code deepAfterNs} in a row, it parks {@code deepParkNs} at a time instead.
 *
 * <p>Why: a short maximum park keeps a busy server's latency low, but an idle one then wakes
 * every 100–200 µs in each of its polling threads (the Aeron media driver, the backup's
 * receiver): measured with ten Ferrite JVMs on two cores (the chaos suite), each idle server
 * took about a fifth of a core, and restarts of the others slowed to half a minute. After a
 * spell of idleness the deeper park costs the first message at most {@code deepParkNs} of
 * extra latency; under steady load the thread never gets there.
 */
public final class DeepeningIdleStrategy implements IdleStrategy {
    /** Idle this long in a row before parking deeply. */
    public static final long DEFAULT_DEEP_AFTER_NS = TimeUnit.MILLISECONDS.toNanos(50);
    /** The deep park. */
    public static final long DEFAULT_DEEP_PARK_NS = TimeUnit.MILLISECONDS.toNanos(1);

    private final int spins;
    private final int yields;
    private final long minParkNs;
    private final long maxParkNs;
    private final long deepAfterNs;
    private final long deepParkNs;
    private int spun;
    private int yielded;
    private long parkNs;
    private long idleSinceNs;
    private boolean idling;

    /**
     * @param spins       busy spins before yielding
     * @param yields      yields before parking
     * @param minParkNs   first park
     * @param maxParkNs   longest park while idleness is recent
     * @param deepAfterNs idleness after which {@code deepParkNs} is used
     * @param deepParkNs  park once idle that long
     */
    public DeepeningIdleStrategy(int spins, int yields, long minParkNs, long maxParkNs, long deepAfterNs,
                                 long deepParkNs) {
        if (spins < 0 || yields < 0 || minParkNs < 1 || maxParkNs < minParkNs || deepAfterNs < 0
                || deepParkNs < maxParkNs) {
            throw new IllegalArgumentException("idle strategy: need spins, yields >= 0 and 1 <= minPark <= maxPark"
                    + " <= deepPark");
        }
        this.spins = spins;
        this.yields = yields;
        this.minParkNs = minParkNs;
        this.maxParkNs = maxParkNs;
        this.deepAfterNs = deepAfterNs;
        this.deepParkNs = deepParkNs;
        this.parkNs = minParkNs;
    }

    /** Backs off to {@code maxParkUs}, then after 50 ms of idleness parks 1 ms at a time. */
    public static DeepeningIdleStrategy backoff(long maxParkUs) {
        return new DeepeningIdleStrategy(100, 10, TimeUnit.MICROSECONDS.toNanos(1),
                TimeUnit.MICROSECONDS.toNanos(maxParkUs), DEFAULT_DEEP_AFTER_NS, DEFAULT_DEEP_PARK_NS);
    }

    @Override
    public void idle(int workCount) {
        if (workCount > 0) {
            reset();
        } else {
            idle();
        }
    }

    @Override
    public void idle() {
        if (spun < spins) {
            spun++;
            Thread.onSpinWait();
            return;
        }
        if (yielded < yields) {
            yielded++;
            Thread.yield();
            return;
        }
        LockSupport.parkNanos(nextParkNs(System.nanoTime()));
    }

    /** How long the next park lasts, at {@code nowNs}, once spinning and yielding are done. */
    long nextParkNs(long nowNs) {
        if (!idling) {
            idling = true;
            idleSinceNs = nowNs;
        }
        if (nowNs - idleSinceNs >= deepAfterNs) {
            return deepParkNs;
        }
        long park = parkNs;
        parkNs = Math.min(parkNs * 2, maxParkNs);
        return park;
    }

    @Override
    public void reset() {
        spun = 0;
        yielded = 0;
        parkNs = minParkNs;
        idling = false;
    }

    @Override
    public String alias() {
        return "deepening";
    }
}
