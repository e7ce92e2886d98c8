package io.ferrite.server.metrics;

import io.ferrite.master.data.DataMetrics;
import io.ferrite.master.data.DurabilityGate;
import io.ferrite.master.data.Limits;
import io.ferrite.proto.v1.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
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
public final class OpMetrics implements DataMetrics {
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
                    .tag("op", tag(op))
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofNanos(1_000))
                    .maximumExpectedValue(Duration.ofSeconds(10))
                    .register(registry);
            counter(op, Status.OK);
        }
        enumeratedObjects = Counter.builder("ferrite.enumerated.objects")
                .description("Objects sent by Enumerate streams").register(registry);
    }

    /**
     * Registers {@code ferrite_data_durability_waiters}: the data service's answers waiting for
     * replication in {@code gate} (bounded by {@link Limits#MAX_DURABILITY_WAITERS}).
     */
    public void durabilityWaiters(DurabilityGate gate) {
        Gauge.builder("ferrite.data.durability.waiters", gate, DurabilityGate::waiters)
                .description("Answers of the data service waiting for replication (bounded by "
                        + Limits.MAX_DURABILITY_WAITERS + ")")
                .register(registry);
    }

    /** Records one call's latency, measured from {@code startNs} ({@link System#nanoTime()}) to {@code endNs}. */
    @Override
    public void time(Op op, long startNs, long endNs) {
        timers[op.ordinal()].record(endNs - startNs, TimeUnit.NANOSECONDS);
    }

    /** Counts one object operation's outcome. */
    @Override
    public void count(Op op, Status status) {
        counter(op, status).increment();
    }

    @Override
    public void enumerated(int objects) {
        enumeratedObjects.increment(objects);
    }

    private Counter counter(Op op, Status status) {
        int index = op.ordinal() * STATUSES.length + status.ordinal();
        Counter counter = counters.get(index);
        if (counter == null) {
            counter = Counter.builder("ferrite.ops")
                    .description("Data operations by outcome")
                    .tag("op", tag(op))
                    .tag("status", status.name())
                    .register(registry);
            counters.set(index, counter);
        }
        return counter;
    }

    /** The {@code op} tag of an operation's meters: its name in lower case. */
    private static String tag(Op op) {
        return op.name().toLowerCase(Locale.ROOT);
    }

    /** Operations counted so far with this outcome (tests, stats). */
    public double counted(Op op, Status status) {
        return counter(op, status).count();
    }
}
