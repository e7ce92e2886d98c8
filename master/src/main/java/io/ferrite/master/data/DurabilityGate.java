package io.ferrite.master.data;

import io.ferrite.master.LogPosition;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Holds every answer of the data service until the log position it depends on is durable
 * (acknowledged writes, linearizable reads), and bounds how many answers may wait at once.
 *
 * <p>Fast path, allocation-free: a position is durable at once without replication, when it is
 * {@link LogPosition#NONE}, when it is at or below the highest position this server has seen
 * {@link Durability#whenDurable} complete for ({@link #knownDurable()}: whenDurable covers
 * everything before its position in the log, and positions the engine reports lie in head
 * segments, whose ids grow in log order), or when {@link Durability#isDurable} says so. Only
 * otherwise does an answer wait on {@link Durability#whenDurable}.
 *
 * <p>Bound: at most {@link Limits#MAX_DURABILITY_WAITERS} answers wait at once in this server.
 * A caller reserves a slot ({@link #tryReserve}) before it runs a mutation (a mutation cannot
 * be refused once applied) or before a read's answer starts waiting, and refuses with RETRY
 * when none is free; every reserved slot is {@link #release released} once.
 */
public final class DurabilityGate {
    /** Null without replication: everything is durable at once. */
    private final Durability durability;
    private final AtomicLong knownDurable = new AtomicLong(LogPosition.NONE);
    private final AtomicInteger waiters = new AtomicInteger();
    private final int maxWaiters;

    public DurabilityGate(Durability durability) {
        this(durability, Limits.MAX_DURABILITY_WAITERS);
    }

    DurabilityGate(Durability durability, int maxWaiters) {
        this.durability = durability;
        this.maxWaiters = maxWaiters;
    }

    /** Whether answers may wait at all (replication is on). */
    public boolean replicated() {
        return durability != null;
    }

    /** Whether an answer depending on {@code position} may leave now. Allocation-free. */
    public boolean isDurable(long position) {
        if (durability == null || position <= knownDurable.get()) {
            return true;
        }
        if (durability.isDurable(LogPosition.segmentId(position), LogPosition.length(position))) {
            learned(position);
            return true;
        }
        return false;
    }

    /** Completes once {@code position} is durable; the gate learns it then. */
    public CompletableFuture<Void> whenDurable(long position) {
        return durability.whenDurable(LogPosition.segmentId(position), LogPosition.length(position));
    }

    /** Records that {@code position} (and everything before it) is durable. */
    public void learned(long position) {
        long known = knownDurable.get();
        while (position > known && !knownDurable.compareAndSet(known, position)) {
            known = knownDurable.get();
        }
    }

    /** Takes one waiting slot; false (nothing taken) when all are in use. */
    public boolean tryReserve() {
        int now = waiters.get();
        while (now < maxWaiters) {
            if (waiters.compareAndSet(now, now + 1)) {
                return true;
            }
            now = waiters.get();
        }
        return false;
    }

    /** Gives back a slot taken by {@link #tryReserve}. */
    public void release() {
        waiters.decrementAndGet();
    }

    /** Slots in use: answers waiting for durability, and mutations running that may have to wait. */
    public int waiters() {
        return waiters.get();
    }

    /** The highest position known durable (packed {@link LogPosition}). */
    public long knownDurable() {
        return knownDurable.get();
    }
}
