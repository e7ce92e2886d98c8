package io.ferrite.coordinator.zk;

/**
 * ZooKeeper could not be read or written (connection lost, session expired, a node that should
 * be there is missing or holds bytes that do not decode). The operation did not complete; it
 * may or may not have taken effect, and every operation of this module is safe to retry.
 */
public final class ClusterStoreException extends RuntimeException {
    public ClusterStoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public ClusterStoreException(String message) {
        super(message);
    }
}
