package io.ferrite.master.cleaner;

import io.ferrite.master.log.LogSegment;
import io.ferrite.master.memory.SegletPool;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Decides when the cleaner works and on what.
 *
 * <ul>
 *   <li>Nothing while free memory is above the low-memory mark, the log is within its size cap
 *       and tombstones are a small share of free memory.</li>
 *   <li><b>Compaction</b> (one segment rewritten in memory, same id, backups untouched) when
 *       memory is the pressure and some segment would give back at least an eighth of its
 *       seglets; failing that, combined cleaning ranked by utilization in memory; failing
 *       that, any compaction that gives back a seglet (garbage spread thin everywhere).</li>
 *   <li><b>Combined cleaning</b> otherwise: the log has more segments than its cap (the space
 *       its replicas take) or tombstones hold at least the configured share of free memory.
 *       Segments are ranked by cost-benefit
 *       {@code (1 - u) * age / u}, where {@code u} is live bytes over the segment's written
 *       length and age is measured in bytes appended to the log since the segment was
 *       written; the best are taken while their live bytes fit the cleaner's reserve (the
 *       seglets writers may not take), so a pass never runs out of memory half-way.</li>
 * </ul>
 */
public final class CleaningBalancer {
    /** Most segments one combined pass takes. */
    static final int MAX_SOURCES = 64;
    /**
     * Header and slack a survivor needs beyond the live bytes it receives (a compaction
     * target's 26-byte segment header fits in it, so the estimate never falls short).
     */
    static final int SURVIVOR_OVERHEAD_BYTES = 256;

    private final int lowMemorySeglets;
    private final int writerFloorSeglets;
    private final int survivorFloorSeglets;
    private final int cleanerThreads;
    private final int segmentCap;
    private final double tombstoneShare;
    private final long segmentBytes;
    private volatile long tombstoneRetryClock;

    /** What to do next. */
    public sealed interface Decision {
        record Idle() implements Decision {
        }

        record Compact(LogSegment segment) implements Decision {
        }

        /** @param forTombstones the pass was chosen to drop tombstones */
        record Combine(List<LogSegment> sources, boolean forTombstones) implements Decision {
        }
    }

    static final Decision IDLE = new Decision.Idle();

    /**
     * @param writerFloorSeglets   writers stop when this few seglets are free: the cleaner's reserve
     * @param cleanerThreads       threads sharing the reserve
     */
    public CleaningBalancer(int lowMemorySeglets, int writerFloorSeglets, int survivorFloorSeglets, int segmentCap,
                            double tombstoneShare, int cleanerThreads, long segmentBytes) {
        this.lowMemorySeglets = lowMemorySeglets;
        this.writerFloorSeglets = writerFloorSeglets;
        this.cleanerThreads = Math.max(1, cleanerThreads);
        this.survivorFloorSeglets = survivorFloorSeglets;
        this.segmentCap = segmentCap;
        this.tombstoneShare = tombstoneShare;
        this.segmentBytes = segmentBytes;
    }

    /**
     * @param closed         closed segments of the log (the head excluded)
     * @param segmentCount   segments in the log
     * @param freeSeglets    free seglets in the pool
     * @param tombstoneBytes framed bytes of tombstones in the log
     * @param now            the log clock
     */
    public Decision decide(List<LogSegment> closed, int segmentCount, int freeSeglets, long tombstoneBytes, long now) {
        boolean memoryPressure = freeSeglets <= lowMemorySeglets;
        boolean overCap = segmentCount > segmentCap;
        boolean tombstonePressure = tombstoneBytes > 0
                && tombstoneBytes >= tombstoneShare * (double) freeSeglets * SegletPool.SEGLET_SIZE_BYTES
                && now >= tombstoneRetryClock;
        if (!memoryPressure && !overCap && !tombstonePressure) {
            return IDLE;
        }
        // A pass may count only on the reserve: memory above the writer floor can be taken by
        // writers while the pass runs, and a pass that runs out part-way frees nothing.
        long budgetSeglets = (Math.min(freeSeglets, writerFloorSeglets) - survivorFloorSeglets - 1) / cleanerThreads;
        long budgetBytes = budgetSeglets * SegletPool.SEGLET_SIZE_BYTES;
        if (budgetBytes <= 0) {
            return IDLE;
        }
        if (overCap || tombstonePressure) {
            Decision combined = combine(closed, budgetBytes, now, true, overCap, tombstonePressure);
            if (!(combined instanceof Decision.Idle) || !memoryPressure) {
                return combined;
            }
        }
        Decision compaction = compaction(closed, budgetBytes, 8);
        if (compaction instanceof Decision.Idle) {
            compaction = combine(closed, budgetBytes, now, false, false, false);
        }
        if (compaction instanceof Decision.Idle) {
            // Garbage spread thin over every segment: any compaction that gives back a seglet,
            // the emptiest segment first. Expensive, but writers are waiting.
            compaction = compaction(closed, budgetBytes, Integer.MAX_VALUE);
        }
        return compaction;
    }

    /**
     * The segment whose compaction gives back the largest share of its seglets, at least one
     * seglet and at least {@code 1/minShareDivisor} of them, whose live bytes fit the budget.
     */
    private static Decision compaction(List<LogSegment> closed, long budgetBytes, int minShareDivisor) {
        LogSegment best = null;
        double bestShare = 0;
        for (LogSegment segment : closed) {
            if (segment.isBeingCleaned()) {
                continue;
            }
            long needed = segletsFor(segment.liveBytes());
            int held = segment.segletCount();
            long freeable = held - needed;
            if (freeable < 1 || freeable * (long) minShareDivisor < held
                    || needed * SegletPool.SEGLET_SIZE_BYTES > budgetBytes) {
                continue;
            }
            double share = (double) freeable / held;
            if (share > bestShare) {
                best = segment;
                bestShare = share;
            }
        }
        return best == null ? IDLE : new Decision.Compact(best);
    }

    /**
     * Segments ranked by cost-benefit {@code (1 - u) * age / u}, taken while their live bytes
     * fit the budget. {@code u} is live bytes over the replica's length when the pass serves
     * the log's size on backups ({@code byReplica}), over the memory the segment holds when it
     * serves memory.
     *
     * @param reduceCount accept a pass that frees little memory but merges segments (log over its cap)
     */
    private static Decision combine(List<LogSegment> closed, long budgetBytes, long now, boolean byReplica,
                                    boolean reduceCount, boolean forTombstones) {
        List<Scored> scored = new ArrayList<>(closed.size());
        for (LogSegment segment : closed) {
            if (segment.isBeingCleaned() || segment.lengthBytes() == 0 || segment.snapshotPins() > 0) {
                continue;
            }
            double capacity = byReplica ? segment.replicaLengthBytes()
                    : (double) segment.segletCount() * SegletPool.SEGLET_SIZE_BYTES;
            // Under tombstone pressure a segment's tombstones may be dead (their named segments
            // gone) although they are counted live; only cleaning it can tell.
            long live = segment.liveBytes() - (forTombstones ? segment.tombstoneBytes() : 0);
            double u = Math.min(1.0, Math.max(0, live) / capacity);
            if (u >= 0.98) {
                continue;
            }
            double age = Math.max(1, now - segment.ageStamp());
            double score = u <= 0 ? Double.MAX_VALUE : (1 - u) * age / u;
            scored.add(new Scored(segment, score));
        }
        scored.sort(Comparator.comparingDouble(Scored::score).reversed());
        List<LogSegment> sources = new ArrayList<>();
        long live = 0;
        long seglets = 0;
        for (Scored candidate : scored) {
            long segmentLive = Math.max(0, candidate.segment().liveBytes());
            if (live + segmentLive + SURVIVOR_OVERHEAD_BYTES * (sources.size() + 1L) > budgetBytes) {
                continue;
            }
            sources.add(candidate.segment());
            live += segmentLive;
            seglets += candidate.segment().segletCount();
            if (sources.size() == MAX_SOURCES) {
                break;
            }
        }
        boolean freesMemory = seglets >= segletsFor(live) + 2;
        boolean mergesSegments = reduceCount && sources.size() >= 2;
        boolean dropsTombstones = forTombstones && holdsTombstones(sources);
        if (sources.isEmpty() || !(freesMemory || mergesSegments || dropsTombstones)) {
            return IDLE;
        }
        return new Decision.Combine(sources, forTombstones);
    }

    private static boolean holdsTombstones(List<LogSegment> sources) {
        for (LogSegment source : sources) {
            if (source.tombstoneBytes() > 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * A pass chosen for tombstones finished; if it dropped none, tombstone pressure is ignored
     * until the log has grown by a segment, so the cleaner does not spin on live tombstones.
     */
    public synchronized void tombstonePassDone(boolean droppedAny, long now) {
        tombstoneRetryClock = droppedAny ? 0 : now + segmentBytes;
    }

    static long segletsFor(long liveBytes) {
        return (Math.max(0, liveBytes) + SURVIVOR_OVERHEAD_BYTES + SegletPool.SEGLET_SIZE_BYTES - 1)
                / SegletPool.SEGLET_SIZE_BYTES;
    }

    private record Scored(LogSegment segment, double score) {
    }
}
