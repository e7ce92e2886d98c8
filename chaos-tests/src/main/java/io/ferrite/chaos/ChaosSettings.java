package io.ferrite.chaos;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What one chaos run does.
 *
 * @param seed            seeds the fault schedule, the targets and the workload
 * @param duration        how long faults are injected (the smoke injects each kind once instead)
 * @param smoke           one fault of each kind in {@code faults}, with short holds
 * @param faults          the kinds to draw from
 * @param image           the Ferrite image ({@code ./ferrite image} builds {@code ferrite:local})
 * @param servers         servers (each master and backup)
 * @param replicas        backups per segment (R)
 * @param serverMemory    each server's memory for objects
 * @param segmentSize     log segment size
 * @param smallDiskBytes  size of the tmpfs the last server keeps replicas on (the disk that fills)
 * @param zookeeperTickMs ZooKeeper's tick
 * @param threads         workload processes
 * @param opsPerSecond    operations per second per workload process
 * @param registers       register keys
 * @param counters        counter keys
 * @param runDir          where the history, the containers' logs and the JSON go
 */
public record ChaosSettings(long seed, Duration duration, boolean smoke, List<FaultKind> faults, String image,
                            int servers, int replicas, String serverMemory, String segmentSize, long smallDiskBytes,
                            int zookeeperTickMs, int threads, double opsPerSecond, int registers, int counters,
                            Path runDir) {
    /** How long a fault is held: kills and partitions long enough for detection and recovery. */
    Duration holdMin() {
        return smoke ? Duration.ofSeconds(3) : Duration.ofSeconds(5);
    }

    Duration holdMax() {
        return smoke ? Duration.ofSeconds(6) : Duration.ofSeconds(15);
    }

    /** Quiet time between the cluster settling and the next fault. */
    Duration quiet() {
        return smoke ? Duration.ofSeconds(1) : Duration.ofSeconds(5);
    }

    /** How long the cluster may take to settle after a heal before the run counts it as wedged. */
    Duration settleTimeout() {
        return Duration.ofMinutes(2);
    }
}
