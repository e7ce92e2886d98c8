package io.ferrite.server.metrics;

import io.ferrite.proto.v1.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Per-operation meters of the data service: {@code ferrite_ops_total{op,status}} (one count per
 * object operation, multi-op items included) and {@code ferrite_op_latency_seconds{op}} (a
 * histogram of the time the server spent on each call, from request decoded to response built).
 * Meters are created once and then found by array index, so recording is allocation-free.
 */
public final class OpMetrics {
    /** Operations measured. */
    public enum Op {
        READ, WRITE, REMOVE, INCREMENT, MULTI_READ, MULTI_WRITE, MULTI_REMOVE, ENUMERATE;

        final String tag = name().toLowerCase(Locale.ROOT);
    }

    private static final Status[] STATUSES = Status.values();

    private final MeterRegistry registry;
    private final Timer[] timers = new Timer[Op.values().length];
    private final AtomicReferenceArray<Counter> counters =
            new AtomicReferenceArray<>(Op.values().length * STATUSES.length);
    private final Counter enumeratedObjects;

    public OpMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (Op op : Op.values()) {
            timers[op.ordinal()] = Timer.builder("ferrite.op.latency")
                    .description("Server time per data call")
                    .tag("op", op.tag)
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofNanos(1_000))
                    .maximumExpectedValue(Duration.ofSeconds(10))
                    .register(registry);
            counter(op, Status.OK);
        }
        enumeratedObjects = Counter.builder("ferrite.enumerated.objects")
                .description("Objects sent by Enumerate streams").register(registry);
    }

    /** The registry these meters live in (the data service adds its gauges there). */
    public MeterRegistry registry() {
        return registry;
    }

    /** Records one call's latency, measured from {@code startNs} ({@link System#nanoTime()}) to {@code endNs}. */
    public void time(Op op, long startNs, long endNs) {
        timers[op.ordinal()].record(endNs - startNs, TimeUnit.NANOSECONDS);
    }

    /** Counts one object operation's outcome. */
    public void count(Op op, Status status) {
        counter(op, status).increment();
    }

    public void enumerated(int objects) {
        enumeratedObjects.increment(objects);
    }

    private Counter counter(Op op, Status status) {
        int index = op.ordinal() * STATUSES.length + status.ordinal();
        Counter counter = counters.get(index);
        if (counter == null) {
            counter = Counter.builder("ferrite.ops")
                    .description("Data operations by outcome")
                    .tag("op", op.tag)
                    .tag("status", status.name())
                    .register(registry);
            counters.set(index, counter);
        }
        return counter;
    }

    /** Operations counted so far with this outcome (tests, stats). */
    public double counted(Op op, Status status) {
        return counter(op, status).count();
    }
}
