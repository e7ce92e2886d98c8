package io.ferrite.server.metrics;

import io.ferrite.master.ObjectManager;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.Supplier;

/** Gauges of the snapshots a master holds and the memory they keep beyond the live data. */
public final class SnapshotGauges {
    private SnapshotGauges() {
    }

    /**
     * Registers the gauges.
     *
     * @param stats the engine's snapshot statistics ({@code ObjectManager::snapshotStats})
     */
    public static void register(MeterRegistry registry, Supplier<ObjectManager.SnapshotStats> stats) {
        Gauge.builder("ferrite.snapshots", stats, s -> s.get().snapshots())
                .description("Table snapshots (parts) this master holds").strongReference(true).register(registry);
        Gauge.builder("ferrite.snapshots.kept.objects", stats, s -> s.get().keptObjects())
                .description("Superseded objects kept in memory because a snapshot still reads them")
                .strongReference(true).register(registry);
        Gauge.builder("ferrite.snapshots.kept", stats, s -> s.get().keptBytes())
                .description("Framed bytes of those objects: the memory snapshots pin beyond the live data")
                .baseUnit("bytes").strongReference(true).register(registry);
    }
}
