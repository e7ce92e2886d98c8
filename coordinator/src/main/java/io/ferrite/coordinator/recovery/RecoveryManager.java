package io.ferrite.coordinator.recovery;

import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.proto.v1.ServerStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the leader's recoveries: one {@link MasterRecovery} per crashed master, each on its own
 * thread, passing until done, while this coordinator is leader. {@link #scan()} (on election,
 * on a server turning CRASHED, and periodically) starts one for every CRASHED server and every
 * recovery record a previous leader left.
 */
public final class RecoveryManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RecoveryManager.class);

    private final RecoveryStore store;
    private final RecoveryRpc rpc;
    private final RecoverySettings settings;
    private final LongSupplier coordinatorEpoch;
    private final BooleanSupplier isLeader;
    private final ExecutorService threads = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("ferrite-recovery-", 0).factory());
    private final Map<Long, MasterRecovery> running = new ConcurrentHashMap<>();
    private final Map<Long, RecoveryProgress> finished = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public RecoveryManager(RecoveryStore store, RecoveryRpc rpc, RecoverySettings settings, LongSupplier coordinatorEpoch,
                           BooleanSupplier isLeader) {
        this.store = store;
        this.rpc = rpc;
        this.settings = settings;
        this.coordinatorEpoch = coordinatorEpoch;
        this.isLeader = isLeader;
    }

    /** Starts a recovery for every CRASHED server and every unfinished recovery record. */
    public void scan() {
        if (closed || !isLeader.getAsBoolean()) {
            return;
        }
        List<Long> wanted = new ArrayList<>(store.recoveries());
        for (RecoveryStore.Server s : store.servers()) {
            if (s.status() == ServerStatus.CRASHED) {
                wanted.add(s.id());
            }
        }
        for (long id : wanted) {
            running.computeIfAbsent(id, this::launch);
        }
    }

    private MasterRecovery launch(long masterId) {
        MasterRecovery recovery = new MasterRecovery(masterId, store, rpc, settings, coordinatorEpoch, threads);
        threads.execute(() -> drive(recovery));
        return recovery;
    }

    private void drive(MasterRecovery recovery) {
        try {
            while (!closed && isLeader.getAsBoolean()) {
                boolean done;
                try {
                    done = recovery.pass();
                } catch (RuntimeException e) {
                    LOG.warn("recovery of {}: pass failed, retrying: {}", ClusterPaths.serverNode(recovery.masterId()),
                            e.toString());
                    done = false;
                }
                if (done) {
                    finished.put(recovery.masterId(), recovery.progress());
                    return;
                }
                Thread.sleep(settings.retryInterval());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            running.remove(recovery.masterId());
        }
    }

    /** Recoveries in progress on this leader. */
    public List<RecoveryProgress> inProgress() {
        return running.values().stream().map(MasterRecovery::progress).toList();
    }

    /** Recoveries this coordinator finished (most recent per master). */
    public List<RecoveryProgress> finished() {
        return List.copyOf(finished.values());
    }

    @Override
    public void close() {
        closed = true;
        threads.shutdownNow();
    }
}
