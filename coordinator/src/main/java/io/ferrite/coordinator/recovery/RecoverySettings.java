package io.ferrite.coordinator.recovery;

import java.time.Duration;

/**
 * How recovery partitions and paces itself.
 *
 * @param partitionBytes   a tablet estimated above this many live bytes is split by hash range
 * @param partitionObjects ... or above this many objects
 * @param retryInterval    pause between passes that could not finish (missing replicas, no room)
 */
public record RecoverySettings(long partitionBytes, long partitionObjects, Duration retryInterval) {
    public static final long DEFAULT_PARTITION_BYTES = 500L * 1000 * 1000;
    public static final long DEFAULT_PARTITION_OBJECTS = 2_000_000;
    public static final Duration DEFAULT_RETRY_INTERVAL = Duration.ofMillis(250);

    public static RecoverySettings defaults() {
        return new RecoverySettings(DEFAULT_PARTITION_BYTES, DEFAULT_PARTITION_OBJECTS, DEFAULT_RETRY_INTERVAL);
    }

    public RecoverySettings {
        if (partitionBytes <= 0 || partitionObjects <= 0 || retryInterval.isNegative()) {
            throw new IllegalArgumentException("recovery partition bounds must be positive");
        }
    }
}
