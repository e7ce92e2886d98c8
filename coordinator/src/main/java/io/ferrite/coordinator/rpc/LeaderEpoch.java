package io.ferrite.coordinator.rpc;

import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.coordinator.zk.ClusterStoreException;
import io.ferrite.coordinator.zk.NodeCodec;
import io.ferrite.coordinator.zk.Zk;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator epoch: a fencing token from ZooKeeper. Every coordinator that becomes leader
 * bumps {@code counters/coordinator-epoch} by one with a compare-and-set and uses the value it
 * wrote as the epoch of its term, so every term's epoch is strictly larger than every earlier
 * term's (two coordinators that both believe they lead for a moment get different epochs, and
 * the later one wins). Masters keep the highest epoch they have seen and refuse lower ones
 * ({@code server.control.EpochFence}), so a deposed leader cannot move or drop data.
 */
public final class LeaderEpoch {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderEpoch.class);
    private static final int MAX_ATTEMPTS = 64;

    private LeaderEpoch() {
    }

    /**
     * Bumps the counter (compare-and-set, retried on a lost race).
     *
     * @return the new epoch, at least 1
     * @throws ClusterStoreException if ZooKeeper cannot be written or the counter does not decode
     */
    public static long bump(CuratorFramework client, ClusterPaths paths) {
        String path = paths.coordinatorEpoch();
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            Zk.Versioned current = Zk.read(client, path);
            if (current == null) {
                Zk.createIfMissing(client, path, NodeCodec.encodeLong(0));
                continue;
            }
            long next = NodeCodec.decodeLong(path, current.data()) + 1;
            try {
                Zk.keeper("bump " + path, () -> client.setData().withVersion(current.version())
                        .forPath(path, NodeCodec.encodeLong(next)));
                return next;
            } catch (KeeperException.BadVersionException e) {
                LOG.debug("coordinator epoch moved while bumping it; reading again");
            } catch (KeeperException e) {
                throw new ClusterStoreException("bump " + path + ": " + e.getMessage(), e);
            }
        }
        throw new ClusterStoreException("bump " + path + ": lost " + MAX_ATTEMPTS + " races");
    }

    /** The counter's value (the latest term's epoch), read directly; 0 if no leader ever bumped it. */
    public static long read(CuratorFramework client, ClusterPaths paths) {
        Zk.Versioned current = Zk.read(client, paths.coordinatorEpoch());
        return current == null ? 0 : NodeCodec.decodeLong(paths.coordinatorEpoch(), current.data());
    }
}
