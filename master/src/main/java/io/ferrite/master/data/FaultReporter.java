package io.ferrite.master.data;

/**
 * Where the data service reports an unexpected failure inside the server (a fault, not bad
 * input), before it answers the call with INTERNAL: the server counts it and logs each distinct
 * one once.
 */
@FunctionalInterface
public interface FaultReporter {
    /** Counts and (the first time) logs a failure at {@code where} (e.g. "data.read"). */
    void report(String where, Throwable failure);
}
