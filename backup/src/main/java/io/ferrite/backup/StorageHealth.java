package io.ferrite.backup;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a {@link ReplicaStore} can take new replicas, from what its file systems did lately:
 * a failed buffer allocation stops admission until an allocation succeeds again, and a failing
 * flush (write or {@code fsync}) stops it until every failed flush has been redone. While
 * allocation has failed, one open per {@link #ALLOCATION_RETRY_NS} is let through to try again
 * (the others are refused at once), so the store resumes by itself once space is back.
 *
 * <p>Failures are counted per {@link StorageException.Op}; each distinct kind (operation and
 * cause) is logged once per episode, and the end of an episode once. Not thread-safe: the
 * store calls it under its lock.
 */
final class StorageHealth {
    private static final Logger LOG = LoggerFactory.getLogger(StorageHealth.class);
    /** How long after a failed allocation the next open may try again. */
    static final long ALLOCATION_RETRY_NS = TimeUnit.SECONDS.toNanos(1);

    private final long[] failures = new long[StorageException.Op.values().length];
    private final Set<String> logged = new HashSet<>();
    private StorageException.Kind allocationFault;
    private boolean allocationTryAllowed;
    private long allocationRetryAtNs;
    private StorageException.Kind flushFault;
    private int failingFlushes;

    /** OK, or how to refuse an open now. */
    ReplicaStore.Outcome admit() {
        StorageException.Kind fault = flushFault != null ? flushFault : allocationFault;
        if (fault == null) {
            return ReplicaStore.Outcome.OK;
        }
        if (flushFault == null && allocationTryAllowed) {
            allocationTryAllowed = false; // this open is the retry
            return ReplicaStore.Outcome.OK;
        }
        return fault == StorageException.Kind.NO_SPACE ? ReplicaStore.Outcome.NO_SPACE
                : ReplicaStore.Outcome.IO_ERROR;
    }

    /** A buffer was allocated: allocation works (again). */
    void allocated() {
        if (allocationFault != null) {
            allocationFault = null;
            allocationRetryAtNs = 0;
            maybeResumed();
        }
    }

    /** A buffer allocation, flush write or fsync failed. */
    void failed(StorageException e) {
        failures[e.op().ordinal()]++;
        if (logged.add(e.op() + "/" + e.kind())) {
            LOG.error("backup storage: {} failed ({}), refusing new replicas until it works again: {}"
                    + " (further failures of this kind are counted, not logged)", e.op(), e.kind(), e.getMessage());
        }
        if (e.op() == StorageException.Op.ALLOCATE) {
            allocationFault = e.kind();
            allocationTryAllowed = false;
            allocationRetryAtNs = 0;
        }
    }

    /** A replica's flush failed ({@code first}: its first failure since it last flushed fine). */
    void flushFailed(StorageException e, boolean first) {
        failed(e);
        if (first) {
            failingFlushes++;
        }
        flushFault = e.kind();
    }

    /** A replica whose flush had failed was flushed after all, or dropped. */
    void flushRecovered() {
        if (--failingFlushes == 0) {
            flushFault = null;
            maybeResumed();
        }
    }

    /** Moves the allocation retry on (the store's duty cycle). */
    void tick(long nowNs) {
        if (allocationFault == null || allocationTryAllowed) {
            return;
        }
        if (allocationRetryAtNs == 0) {
            allocationRetryAtNs = nowNs + ALLOCATION_RETRY_NS;
        } else if (nowNs - allocationRetryAtNs >= 0) {
            allocationTryAllowed = true;
            allocationRetryAtNs = 0;
        }
    }

    private void maybeResumed() {
        if (allocationFault == null && flushFault == null && !logged.isEmpty()) {
            logged.clear();
            LOG.info("backup storage: works again, accepting new replicas");
        }
    }

    /** Whether new replicas are refused now. */
    boolean refusing() {
        return allocationFault != null || flushFault != null;
    }

    long failures(StorageException.Op op) {
        return failures[op.ordinal()];
    }

    int failingFlushes() {
        return failingFlushes;
    }
}
