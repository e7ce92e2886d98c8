package io.ferrite.server.metrics;

import io.ferrite.master.data.FaultReporter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unexpected failures (server faults, not bad input): each is counted in
 * {@code ferrite_errors_total{where}} and each distinct one (place, exception class, first
 * frame) is logged once with its stack trace; repeats go to debug.
 */
public final class ErrorReporter implements FaultReporter {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorReporter.class);
    private static final int MAX_DISTINCT = 1_000;

    private final MeterRegistry registry;
    private final Set<String> seen = ConcurrentHashMap.newKeySet();

    public ErrorReporter(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Counts and (the first time) logs a failure at {@code where} (e.g. "data.read"). */
    @Override
    public void report(String where, Throwable failure) {
        Counter.builder("ferrite.errors").description("Unexpected failures by place").tag("where", where)
                .register(registry).increment();
        StackTraceElement[] trace = failure.getStackTrace();
        String key = where + "|" + failure.getClass().getName() + "|" + (trace.length == 0 ? "" : trace[0]);
        if (seen.size() < MAX_DISTINCT && seen.add(key)) {
            LOG.warn("{} failed (logged once; repeats are counted in ferrite_errors_total)", where, failure);
        } else {
            LOG.debug("{} failed again: {}", where, failure.toString());
        }
    }

    /** Failures counted at {@code where} so far. */
    public double count(String where) {
        Counter counter = registry.find("ferrite.errors").tag("where", where).counter();
        return counter == null ? 0 : counter.count();
    }
}
