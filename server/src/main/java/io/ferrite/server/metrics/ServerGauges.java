package io.ferrite.server.metrics;

import io.ferrite.master.EngineStats;
import io.ferrite.master.cleaner.CleanerStats;
import io.ferrite.server.lease.Lease;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Gauges of a master's memory, log and cleaner, its tablets and its ZooKeeper lease. Engine
 * statistics take the log's append lock, so one snapshot serves every gauge of a scrape: it is
 * taken again only when older than {@link #STATS_MAX_AGE_NS}.
 */
public final class ServerGauges {
    public static final long STATS_MAX_AGE_NS = 500_000_000L;
    private static final double SEGLET_BYTES = 65_536.0;

    private final Supplier<EngineStats> source;
    private final LongSupplier nanoClock;
    private EngineStats cached;
    private long cachedAtNs;

    private ServerGauges(Supplier<EngineStats> source, LongSupplier nanoClock) {
        this.source = source;
        this.nanoClock = nanoClock;
    }

    /**
     * Registers the gauges.
     *
     * @param stats      the engine's statistics ({@code ObjectManager::stats})
     * @param tablets    number of owned tablet ranges
     * @param lease      the server's lease
     * @param zkConnected whether the ZooKeeper client is connected now
     * @return the gauges' holder; keep it referenced as long as the registry
     */
    public static ServerGauges register(MeterRegistry registry, Supplier<EngineStats> stats, IntSupplier tablets,
                                        Lease lease, BooleanSupplier zkConnected, LongSupplier nanoClock) {
        ServerGauges g = new ServerGauges(stats, nanoClock);
        g.gauge(registry, "ferrite.memory.total", "bytes", "Memory of the seglet pool",
                s -> s.segletsTotal() * SEGLET_BYTES);
        g.gauge(registry, "ferrite.memory.used", "bytes", "Memory the log holds (seglets)",
                s -> s.segletsHeld() * SEGLET_BYTES);
        g.gauge(registry, "ferrite.memory.utilization", null, "Share of the pool the log holds",
                s -> s.segletsTotal() == 0 ? 0 : (double) s.segletsHeld() / s.segletsTotal());
        g.gauge(registry, "ferrite.log.live", "bytes", "Framed bytes of live objects and tombstones",
                s -> s.liveEntryBytes());
        g.gauge(registry, "ferrite.log.utilization", null, "Live entry bytes over the bytes the log holds",
                EngineStats::logUtilization);
        g.gauge(registry, "ferrite.log.segments", null, "Segments in the log", s -> s.segments());
        g.gauge(registry, "ferrite.log.tombstones", "bytes", "Framed bytes of tombstones in the log",
                s -> s.tombstoneBytes());
        g.gauge(registry, "ferrite.objects.live", null, "Objects indexed", s -> s.liveObjects());
        g.gauge(registry, "ferrite.objects.key.value", "bytes", "Key and value bytes of live objects",
                s -> s.liveKeyValueBytes());
        g.gauge(registry, "ferrite.hashtable", "bytes", "Off-heap bytes of the hash table", s -> s.hashTableBytes());
        g.gauge(registry, "ferrite.memory.per.live.byte", null, "Memory held per live key and value byte",
                EngineStats::memoryPerLiveByte);
        g.cleaner(registry, "ferrite.cleaner.compactions", null, "Segments compacted in memory",
                c -> c.compactions());
        g.cleaner(registry, "ferrite.cleaner.combined.passes", null, "Combined cleaning passes",
                c -> c.combinedPasses());
        g.cleaner(registry, "ferrite.cleaner.segments.cleaned", null, "Segments freed by combined cleaning",
                c -> c.segmentsCleaned());
        g.cleaner(registry, "ferrite.cleaner.moved", "bytes", "Live bytes copied by the cleaner",
                c -> c.bytesMoved());
        g.cleaner(registry, "ferrite.cleaner.seglets.freed", null, "Seglets returned to the pool",
                c -> c.segletsFreed());
        g.cleaner(registry, "ferrite.cleaner.tombstones.dropped", null, "Tombstones dropped",
                c -> c.tombstonesDropped());
        g.cleaner(registry, "ferrite.cleaner.passes.aborted", null, "Passes that ran out of memory part-way",
                c -> c.passesAborted());
        g.cleaner(registry, "ferrite.cleaner.time", "seconds", "Time spent cleaning",
                c -> c.cleaningTimeNs() / 1e9);
        Gauge.builder("ferrite.tablets", tablets, t -> t.getAsInt())
                .description("Tablet ranges this master owns").strongReference(true).register(registry);
        Gauge.builder("ferrite.lease.valid", lease, l -> l.isValid() ? 1 : 0)
                .description("1 while the lease holds (ZooKeeper session and acknowledged heartbeat) and data is"
                        + " served").strongReference(true)
                .register(registry);
        Gauge.builder("ferrite.lease.remaining", lease, l -> l.heartbeatRemainingNs() / 1e9)
                .description("Time the heartbeat lease still runs (negative: expired that long ago)").baseUnit("seconds")
                .strongReference(true).register(registry);
        Gauge.builder("ferrite.lease.state", lease, l -> l.state().ordinal())
                .description("Lease state: 0 starting, 1 valid, 2 suspended, 3 lost, 4 closed")
                .strongReference(true).register(registry);
        Gauge.builder("ferrite.zookeeper.connected", zkConnected, z -> z.getAsBoolean() ? 1 : 0)
                .description("1 while the ZooKeeper session is connected").strongReference(true).register(registry);
        return g;
    }

    private void gauge(MeterRegistry registry, String name, String unit, String description,
                       ToDoubleFunction<EngineStats> f) {
        Gauge.builder(name, this, g -> f.applyAsDouble(g.stats()))
                .description(description).baseUnit(unit).strongReference(true).register(registry);
    }

    private void cleaner(MeterRegistry registry, String name, String unit, String description,
                         ToDoubleFunction<CleanerStats> f) {
        FunctionCounter.builder(name, this, g -> f.applyAsDouble(g.stats().cleaner()))
                .description(description).baseUnit(unit).register(registry);
    }

    /** The engine's statistics, at most {@link #STATS_MAX_AGE_NS} old. */
    public synchronized EngineStats stats() {
        long now = nanoClock.getAsLong();
        if (cached == null || now - cachedAtNs > STATS_MAX_AGE_NS) {
            cached = source.get();
            cachedAtNs = now;
        }
        return cached;
    }
}
