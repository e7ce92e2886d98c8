package io.ferrite.client;

import java.util.List;

/**
 * The cluster as seen by a coordinator, from {@link FerriteClient#clusterStatus()}.
 *
 * @param cluster           the cluster name
 * @param leader            host:port of the leader coordinator
 * @param coordinators      host:port of every coordinator known
 * @param serversUp         servers UP
 * @param serversCrashed    servers CRASHED
 * @param tables            number of tables
 * @param tabletsRecovering tablets being rebuilt after their owner crashed
 * @param recoveries        crash recoveries in progress
 */
public record ClusterStatus(String cluster, String leader, List<String> coordinators, int serversUp,
                            int serversCrashed, int tables, int tabletsRecovering, List<Recovery> recoveries) {
    /** Copies the lists. */
    public ClusterStatus {
        coordinators = List.copyOf(coordinators);
        recoveries = List.copyOf(recoveries);
    }

    /**
     * One crashed master's recovery.
     *
     * @param masterId        the crashed server's id (index &lt;&lt; 32 | generation)
     * @param phase           what it is doing or waiting for
     * @param partitions      partitions planned (0 until its log was found)
     * @param partitionsDone  partitions recovered and handed over
     * @param bytesReplayed   bytes the recovery masters replayed
     * @param startedAtMillis when it was decided (Unix milliseconds)
     */
    public record Recovery(long masterId, String phase, int partitions, int partitionsDone, long bytesReplayed,
                           long startedAtMillis) {
    }
}
