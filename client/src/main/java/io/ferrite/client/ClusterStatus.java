package io.ferrite.client;

import java.util.List;

/**
 * The cluster as seen by a coordinator, from {@link FerriteClient#clusterStatus()}.
 *
 * @param cluster        the cluster name
 * @param leader         host:port of the leader coordinator
 * @param coordinators   host:port of every coordinator known
 * @param serversUp      servers UP
 * @param serversCrashed servers CRASHED
 * @param tables         number of tables
 */
public record ClusterStatus(String cluster, String leader, List<String> coordinators, int serversUp,
                            int serversCrashed, int tables) {
    /**
     * Copies the coordinator list.
     *
     * @param cluster        cluster name
     * @param leader         leader
     * @param coordinators   coordinators
     * @param serversUp      servers up
     * @param serversCrashed servers crashed
     * @param tables         tables
     */
    public ClusterStatus {
        coordinators = List.copyOf(coordinators);
    }
}
