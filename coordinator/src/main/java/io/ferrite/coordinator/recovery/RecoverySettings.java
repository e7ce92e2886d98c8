package io.ferrite.coordinator.recovery;

import java.time.Duration;

/**
 * How recovery partitions and paces itself.
 *
 * @param partitionBytes   a tablet estimated above this many live bytes is split by hash range
 * @param partitionObjects ... or above this many objects
 * @param parallelBytes    a tablet holding this many bytes per live master or more is split so that
 *                         every live master recovers a piece (parallel replay on small clusters)
 * @param retryInterval    pause between passes that could not finish (missing replicas, no room)
 */
public record RecoverySettings(long partitionBytes, long partitionObjects, long parallelBytes,
                               Duration retryInterval) {
    public static final long DEFAULT_PARTITION_BYTES = 500L * 1000 * 1000;
    public static final long DEFAULT_PARTITION_OBJECTS = 2_000_000;
    public static final long DEFAULT_PARALLEL_BYTES = 64L << 20;
    public static final Duration DEFAULT_RETRY_INTERVAL = Duration.ofMillis(250);

    public static RecoverySettings defaults() {
        return new RecoverySettings(DEFAULT_PARTITION_BYTES, DEFAULT_PARTITION_OBJECTS, DEFAULT_PARALLEL_BYTES,
                DEFAULT_RETRY_INTERVAL);
    }

    public RecoverySettings {
        if (partitionBytes <= 0 || partitionObjects <= 0 || parallelBytes <= 0 || retryInterval.isNegative()) {
            throw new IllegalArgumentException("recovery partition bounds must be positive");
        }
    }
}
