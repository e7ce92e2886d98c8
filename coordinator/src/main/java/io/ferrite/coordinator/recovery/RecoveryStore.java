package io.ferrite.coordinator.recovery;

import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Tablet;
import java.util.List;
import java.util.Set;

/**
 * What recovery reads and writes of the cluster's metadata. Every write is a compare-and-set
 * or one transaction: {@code false} means "something changed since you read it", and the
 * caller reads again. Implemented over ZooKeeper ({@link ZkRecoveryStore}) and in memory
 * ({@link InMemoryRecoveryStore}, for deterministic tests of the orchestration).
 */
public interface RecoveryStore {
    /** A server record as read, with its version. */
    record Server(long id, String address, Set<String> services, ServerStatus status, int version) {
        public boolean runs(String service) {
            return services.contains(service);
        }
    }

    /** A tablet node as read: table name, node name, content, version. */
    record StoredTablet(String table, String node, Tablet tablet, int version) {
    }

    /** Every server record. */
    List<Server> servers();

    /** Whether a server is UP and its liveness node exists. */
    boolean isLive(long serverId);

    /** Every tablet of every table. */
    List<StoredTablet> tablets();

    /** Masters with a recovery in progress (decided, not finished). */
    Set<Long> recoveries();

    /**
     * The recovery decision, in one transaction: the crashed server's record moves from CRASHED
     * to REMOVED (at the version read, so a rejoin and a recovery cannot both commit), a recovery
     * record is created, and each of {@code owned} (at its version) becomes RECOVERING.
     */
    boolean decide(Server crashed, List<StoredTablet> owned);

    /**
     * Replaces one tablet by the given pieces (same table, ranges covering it exactly), in one
     * transaction, so each piece can be recovered by another master.
     */
    boolean split(StoredTablet tablet, List<Tablet> pieces);

    /** Records that {@code tablets} (at their versions) are being rebuilt by {@code recoveryMasterId}. */
    boolean assign(List<StoredTablet> tablets, long recoveryMasterId);

    /**
     * Hands recovered tablets (at their versions) to their new owner, in one transaction:
     * NORMAL, owner set, creation position recorded.
     */
    boolean complete(List<StoredTablet> tablets, long newOwner, long segmentId, int offset);

    /** Publishes where the recovery stands in its record (for status; not a decision, no version check). */
    void progress(RecoveryProgress progress);

    /** Deletes the recovery record: the master's recovery is over. */
    void finish(long masterId);
}
