package io.ferrite.coordinator.registry;

import io.ferrite.proto.v1.ServerInfo;

/**
 * Told about changes to the cluster's server list. Called on the ZooKeeper cache's event thread
 * in the order ZooKeeper applied the changes; an implementation must return quickly (hand work
 * to its own thread) and must not throw.
 */
@FunctionalInterface
public interface ServerListListener {
    /**
     * A server record appeared (a server registered) or changed (its status moved to CRASHED
     * or REMOVED).
     */
    void serverChanged(ServerInfo server);
}
