package io.ferrite.master.data;

import io.ferrite.proto.v1.Status;

/**
 * Where the data service records its operations: a count per outcome and a latency per call.
 * The server implements it over its metrics registry; recording must not allocate once warm.
 */
public interface DataMetrics {
    /** Operations measured. */
    enum Op {
        READ, WRITE, REMOVE, INCREMENT, MULTI_READ, MULTI_WRITE, MULTI_REMOVE, ENUMERATE
    }

    /** Records one call's latency, measured from {@code startNs} ({@link System#nanoTime()}) to {@code endNs}. */
    void time(Op op, long startNs, long endNs);

    /** Counts one object operation's outcome. */
    void count(Op op, Status status);

    /** Counts objects sent by Enumerate streams. */
    void enumerated(int objects);
}
