package io.ferrite.server.metrics;

import io.ferrite.backup.BackupService;
import io.ferrite.master.replication.ReplicaManager;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/** Prometheus meters of the replica manager (master side) and the backup service. */
public final class ReplicationMetrics {
    private ReplicationMetrics() {
    }

    /** Registers what exists: either argument may be null. */
    public static void register(MeterRegistry registry, ReplicaManager replicas, BackupService backup) {
        if (replicas != null) {
            FunctionCounter.builder("ferrite.replication.sent", replicas, m -> m.stats().bytesSent()).baseUnit("bytes")
                    .description("Log bytes sent to backups").register(registry);
            FunctionCounter.builder("ferrite.replication.messages", replicas, m -> m.stats().messagesSent())
                    .description("Replication messages sent").register(registry);
            FunctionCounter.builder("ferrite.replication.back.pressured", replicas, m -> m.stats().backPressured())
                    .description("Offers refused by Aeron back pressure (retried)").register(registry);
            FunctionCounter.builder("ferrite.replication.replicas.replaced", replicas,
                    m -> m.stats().replicasReplaced())
                    .description("Replicas placed again after a backup failed, refused or went silent")
                    .register(registry);
            FunctionCounter.builder("ferrite.replication.stall", replicas, m -> m.stats().stallNs() / 1e9)
                    .baseUnit("seconds").description("Time writes waited with fewer than R replicas placed")
                    .register(registry);
            FunctionCounter.builder("ferrite.replication.faults", replicas, m -> m.stats().faults())
                    .description("Unexpected exceptions while replicating a segment (its incomplete replicas restarted)")
                    .register(registry);
            Gauge.builder("ferrite.replication.waiters", replicas, m -> m.stats().waiters())
                    .description("Writes waiting for their replication").register(registry);
            Gauge.builder("ferrite.replication.segments", replicas, m -> m.stats().segmentsTracked())
                    .description("Segments being replicated or replicated").register(registry);
        }
        if (backup != null) {
            Gauge.builder("ferrite.backup.buffers", backup, b -> b.store().buffersInUse())
                    .description("Replica buffers in use").register(registry);
            FunctionCounter.builder("ferrite.backup.received", backup, BackupService::bytesReceived).baseUnit("bytes")
                    .description("Replica bytes received").register(registry);
            FunctionCounter.builder("ferrite.backup.ipc.fragments", backup, BackupService::ipcFragments)
                    .description("Replication fragments received over aeron:ipc (from masters sharing this media driver)")
                    .register(registry);
            FunctionCounter.builder("ferrite.backup.rejected", backup, BackupService::rejected)
                    .description("Replication messages refused").register(registry);
            FunctionCounter.builder("ferrite.backup.flushed", backup, b -> b.store().flushedBytes()).baseUnit("bytes")
                    .description("Replica bytes written to disk").register(registry);
            FunctionCounter.builder("ferrite.backup.storage.failures", backup, b -> b.store().allocationFailures())
                    .tag("op", "allocate").description("Replica buffer allocations that failed (full or failing file"
                            + " system)").register(registry);
            FunctionCounter.builder("ferrite.backup.storage.failures", backup, b -> b.store().flushFailures())
                    .tag("op", "write").description("Replica flush writes that failed (retried)").register(registry);
            FunctionCounter.builder("ferrite.backup.storage.failures", backup, b -> b.store().fsyncFailures())
                    .tag("op", "fsync").description("Replica flush fsyncs that failed (retried)").register(registry);
            Gauge.builder("ferrite.backup.refusing", backup, b -> b.store().refusingReplicas() ? 1 : 0)
                    .description("1 while the backup refuses new replicas because it cannot store them").register(registry);
            Gauge.builder("ferrite.backup.flushes.failing", backup, b -> b.store().failingFlushes())
                    .description("Closed replicas whose flush failed, kept in their buffers until a retry works")
                    .register(registry);
            FunctionCounter.builder("ferrite.backup.orphans.dropped", backup, b -> b.store().orphansDropped())
                    .description("Replicas dropped by reconciliation: their masters no longer kept them here (a lost"
                            + " free, or replaced elsewhere)").register(registry);
            FunctionCounter.builder("ferrite.backup.faults", backup, BackupService::faults)
                    .description("Faults while handling replication messages (each message skipped)")
                    .register(registry);
        }
    }
}
