package io.ferrite.coordinator.zk;

import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * Thin checked-to-unchecked wrappers over the Curator calls this module makes. A
 * {@link KeeperException} the caller wants to handle (a version conflict, a node that exists)
 * is passed through as is; anything else becomes a {@link ClusterStoreException}. An
 * interrupt is never swallowed: the thread's flag is set again before the exception is thrown.
 */
public final class Zk {
    private Zk() {
    }

    /** A Curator call that may throw anything. */
    @FunctionalInterface
    public interface Call<T> {
        T call() throws Exception;
    }

    /** Runs {@code call}; {@link KeeperException}s come out as they are, others wrapped. */
    public static <T> T keeper(String what, Call<T> call) throws KeeperException {
        try {
            return call.call();
        } catch (KeeperException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterStoreException(what + ": interrupted", e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new ClusterStoreException(what + ": " + e, e);
        }
    }

    /** Runs {@code call}, wrapping every checked failure. */
    public static <T> T unchecked(String what, Call<T> call) {
        try {
            return keeper(what, call);
        } catch (KeeperException e) {
            throw new ClusterStoreException(what + ": " + e.getMessage(), e);
        }
    }

    /** The node's data and version, or null if it does not exist. */
    public static Versioned read(CuratorFramework client, String path) {
        Stat stat = new Stat();
        try {
            byte[] data = keeper("read " + path, () -> client.getData().storingStatIn(stat).forPath(path));
            return new Versioned(data == null ? new byte[0] : data, stat.getVersion());
        } catch (KeeperException.NoNodeException e) {
            return null;
        } catch (KeeperException e) {
            throw new ClusterStoreException("read " + path + ": " + e.getMessage(), e);
        }
    }

    /** The node's children (empty if it does not exist). */
    public static List<String> children(CuratorFramework client, String path) {
        try {
            return keeper("list " + path, () -> client.getChildren().forPath(path));
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        } catch (KeeperException e) {
            throw new ClusterStoreException("list " + path + ": " + e.getMessage(), e);
        }
    }

    public static boolean exists(CuratorFramework client, String path) {
        return unchecked("check " + path, () -> client.checkExists().forPath(path)) != null;
    }

    /** Commits {@code ops} as one ZooKeeper transaction; a failed op's exception comes out as is. */
    public static List<CuratorTransactionResult> commit(CuratorFramework client, String what, List<CuratorOp> ops)
            throws KeeperException {
        return keeper(what, () -> client.transaction().forOperations(ops));
    }

    /** Creates a persistent node unless it exists. */
    public static void createIfMissing(CuratorFramework client, String path, byte[] data) {
        try {
            keeper("create " + path, () -> client.create().creatingParentsIfNeeded().forPath(path, data));
        } catch (KeeperException.NodeExistsException e) {
            // Another process created it first: that is the outcome we wanted.
        } catch (KeeperException e) {
            throw new ClusterStoreException("create " + path + ": " + e.getMessage(), e);
        }
    }

    /** Node data with the version it was read at, for compare-and-set. */
    public record Versioned(byte[] data, int version) {
    }
}
