package io.ferrite.coordinator.recovery;

import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.proto.v1.FreeMasterReplicasResponse;
import io.ferrite.proto.v1.KeyHashRange;
import io.ferrite.proto.v1.RecoverPartitionRequest;
import io.ferrite.proto.v1.RecoverPartitionResponse;
import io.ferrite.proto.v1.RecoveryPartition;
import io.ferrite.proto.v1.ReplicaInfo;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.Tablet;
import io.ferrite.proto.v1.TabletState;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The recovery of one crashed master, as a sequence of idempotent passes over the cluster
 * store (DESIGN §6). Each {@link #pass()} reads the store afresh and does the next steps:
 *
 * <ol>
 *   <li><b>Decide</b>: CRASHED → REMOVED, a recovery record, its tablets RECOVERING (one
 *       transaction; a rejoin racing with it makes one of them fail).</li>
 *   <li><b>Find the log</b>: list the replicas on every live backup, read the head's digest
 *       ({@link CrashedLog}); if a segment it names has no replica, wait (a restarting backup may
 *       bring one) and say which tables cannot be recovered until then.</li>
 *   <li><b>Split</b> tablets estimated above the partition bounds by hash range.</li>
 *   <li><b>Assign and replay</b>: each RECOVERING tablet is a partition; it is recorded as
 *       assigned to a live master, then that master replays it ({@code RecoverPartition}); a
 *       master that declines (no room, not serving) is not asked again by this pass.</li>
 *   <li><b>Hand over</b>: a recovered tablet becomes NORMAL with its new owner.</li>
 *   <li><b>Finish</b>: once no tablet is left, the backups free the master's replicas and the
 *       record is deleted.</li>
 * </ol>
 * A pass that cannot finish returns false and is repeated; a new leader simply starts passing
 * where the store says things stand (an assignment to a live master is re-sent to it, and the
 * master answers from what it already did).
 */
public final class MasterRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(MasterRecovery.class);
    private static final BigInteger HASH_SPACE = BigInteger.ONE.shiftLeft(64);

    private final long masterId;
    private final RecoveryStore store;
    private final RecoveryRpc rpc;
    private final RecoverySettings settings;
    private final LongSupplier coordinatorEpoch;
    private final Executor calls;
    private final long startedAtMillis = System.currentTimeMillis();
    private final long startedAtNanos = System.nanoTime();
    /** (tablet node, master) pairs that declined in this recovery. */
    private final Set<String> declined = new HashSet<>();
    private volatile RecoveryProgress progress;
    private long bytesReplayed;
    private long objectsRecovered;
    private int partitionsDone;
    private int partitionsPlanned;
    private final Set<Long> recoveryMasters = new HashSet<>();

    public MasterRecovery(long masterId, RecoveryStore store, RecoveryRpc rpc, RecoverySettings settings,
                          LongSupplier coordinatorEpoch, Executor calls) {
        this.masterId = masterId;
        this.store = store;
        this.rpc = rpc;
        this.settings = settings;
        this.coordinatorEpoch = coordinatorEpoch;
        this.calls = calls;
        this.progress = new RecoveryProgress(masterId, "starting", 0, 0, 0, startedAtMillis);
    }

    public long masterId() {
        return masterId;
    }

    public RecoveryProgress progress() {
        return progress;
    }

    private void phase(String phase) {
        RecoveryProgress next;
        synchronized (this) {
            next = new RecoveryProgress(masterId, phase, partitionsPlanned, partitionsDone, bytesReplayed,
                    startedAtMillis);
        }
        boolean changed = !next.equals(progress);
        progress = next;
        if (changed) {
            try {
                store.progress(next);
            } catch (RuntimeException e) {
                LOG.debug("recovery of {}: progress not published: {}", name(), e.toString());
            }
        }
    }

    private String name() {
        return ClusterPaths.serverNode(masterId);
    }

    /**
     * One pass.
     *
     * @return true when the recovery is over (or there was nothing to recover)
     */
    public boolean pass() {
        if (!store.recoveries().contains(masterId)) {
            Decision decision = decide();
            if (decision != Decision.DECIDED) {
                return decision == Decision.NOTHING;
            }
        }
        List<RecoveryStore.StoredTablet> remaining = remaining();
        if (remaining.isEmpty()) {
            return finish();
        }
        List<RecoveryStore.Server> servers = store.servers();
        List<CrashedLog.Held> held = new ArrayList<>();
        List<String> silent = new ArrayList<>();
        for (RecoveryStore.Server s : servers) {
            if (s.id() != masterId && s.runs("backup") && store.isLive(s.id())) {
                try {
                    // Fenced first: the backup's own view may not show the master CRASHED yet, and an
                    // append it accepted after recovery read the replica would be an acknowledged
                    // write recovery missed. A backup not fenced is not used.
                    if (!rpc.fenceMaster(s.address(), masterId, coordinatorEpoch.getAsLong())) {
                        silent.add(s.address());
                        continue;
                    }
                    for (ReplicaInfo r : rpc.listReplicas(s.address(), masterId)) {
                        held.add(new CrashedLog.Held(s.address(), r));
                    }
                } catch (RecoveryRpc.RecoveryRpcException e) {
                    silent.add(s.address());
                }
            }
        }
        phase("finding the log (" + held.size() + " replicas on live backups)");
        CrashedLog log = CrashedLog.find(masterId, held, rpc);
        if (log.headSegmentId() == 0 || !log.missing().isEmpty()) {
            String tables = String.join(", ", remaining.stream().map(RecoveryStore.StoredTablet::table)
                    .distinct().sorted().toList());
            String why = log.headSegmentId() == 0 ? "no replica of the log's head was found"
                    : "segments " + log.missing() + " have no replica on a live backup";
            phase("waiting for replicas: " + why + (silent.isEmpty() ? "" : "; not answering: " + silent)
                    + "; tables " + tables + " cannot be recovered until a backup holding them returns");
            LOG.warn("recovery of {}: {}", name(), progress.phase());
            return false;
        }
        int liveMasters = (int) servers.stream().filter(s -> s.id() != masterId && s.runs("master")
                && store.isLive(s.id())).count();
        if (split(remaining, log, liveMasters)) {
            return false;
        }
        return replay(remaining, log);
    }

    /** Tablets still owned by some server (tablets of this master not yet decided). */
    private List<RecoveryStore.StoredTablet> stillNeeded() {
        return store.tablets().stream().filter(t -> t.tablet().getOwnerId() == masterId).toList();
    }

    private enum Decision { DECIDED, NOTHING, RETRY }

    private Decision decide() {
        Optional<RecoveryStore.Server> record = store.servers().stream().filter(s -> s.id() == masterId).findFirst();
        if (record.isEmpty() || record.get().status() != ServerStatus.CRASHED) {
            phase("nothing to recover: the server is " + record.map(s -> s.status().name()).orElse("gone"));
            return Decision.NOTHING;
        }
        List<RecoveryStore.StoredTablet> owned = stillNeeded();
        if (!store.decide(record.get(), owned)) {
            phase("the decision raced with a change; retrying");
            return Decision.RETRY;
        }
        LOG.info("recovery of crashed server {} decided: {} tablet(s) RECOVERING", name(), owned.size());
        return Decision.DECIDED;
    }

    private List<RecoveryStore.StoredTablet> remaining() {
        return store.tablets().stream().filter(t -> t.tablet().getOwnerId() == masterId
                && t.tablet().getState() == TabletState.RECOVERING).toList();
    }

    /** Splits unassigned tablets estimated above the bounds; true if it changed the store. */
    private boolean split(List<RecoveryStore.StoredTablet> remaining, CrashedLog log, int liveMasters) {
        Map<Long, BigInteger> widthByTable = new HashMap<>();
        for (RecoveryStore.StoredTablet t : remaining) {
            widthByTable.merge(t.tablet().getTableId(), width(t.tablet()), BigInteger::add);
        }
        boolean changed = false;
        // Pieces for parallelism only while there are fewer partitions than live masters: each
        // piece is a tablet of its own in the next pass, and must not be split again for the
        // same reason (it was: 2.2 GB became 5, then 15, then 30 partitions).
        boolean parallelEnough = remaining.size() >= liveMasters;
        for (RecoveryStore.StoredTablet t : remaining) {
            if (t.tablet().getRecoveryMasterId() != 0) {
                continue;
            }
            long[] estimate = estimate(t.tablet(), log, widthByTable);
            long pieces = Math.max(Math.max(ceilDiv(estimate[0], settings.partitionBytes()),
                    ceilDiv(estimate[1], settings.partitionObjects())),
                    parallelEnough ? 1 : Math.min(liveMasters, estimate[0] / settings.parallelBytes()));
            if (pieces > 1 && width(t.tablet()).compareTo(BigInteger.valueOf(pieces)) >= 0) {
                List<Tablet> parts = splitRange(t.tablet(), (int) Math.min(pieces, 1024));
                if (store.split(t, parts)) {
                    LOG.info("recovery of {}: split {}/{} (about {} bytes, {} objects) into {} partitions", name(),
                            t.table(), t.node(), estimate[0], estimate[1], parts.size());
                }
                changed = true;
            }
        }
        return changed;
    }

    private static long ceilDiv(long a, long b) {
        return a <= 0 ? 0 : (a + b - 1) / b;
    }

    private static BigInteger width(Tablet t) {
        return new BigInteger(Long.toUnsignedString(t.getEndHash()))
                .subtract(new BigInteger(Long.toUnsignedString(t.getStartHash()))).add(BigInteger.ONE);
    }

    /** Estimated live bytes and objects of a tablet: its share of the table's statistics. */
    private static long[] estimate(Tablet t, CrashedLog log, Map<Long, BigInteger> widthByTable) {
        long[] stats = log.tableStats().get(t.getTableId());
        if (stats == null) {
            return new long[] {0, 0};
        }
        BigInteger total = widthByTable.getOrDefault(t.getTableId(), HASH_SPACE);
        BigInteger w = width(t);
        return new long[] {BigInteger.valueOf(stats[0]).multiply(w).divide(total).longValue(),
                BigInteger.valueOf(stats[1]).multiply(w).divide(total).longValue()};
    }

    private static List<Tablet> splitRange(Tablet t, int pieces) {
        List<Tablet> out = new ArrayList<>(pieces);
        BigInteger start = new BigInteger(Long.toUnsignedString(t.getStartHash()));
        BigInteger w = width(t);
        for (int i = 0; i < pieces; i++) {
            BigInteger from = start.add(w.multiply(BigInteger.valueOf(i)).divide(BigInteger.valueOf(pieces)));
            BigInteger to = start.add(w.multiply(BigInteger.valueOf(i + 1)).divide(BigInteger.valueOf(pieces)))
                    .subtract(BigInteger.ONE);
            out.add(t.toBuilder().setStartHash(from.longValue()).setEndHash(to.longValue()).setRecoveryMasterId(0)
                    .build());
        }
        return out;
    }

    /** Assigns and replays every remaining tablet; true only if nothing is left afterwards. */
    private boolean replay(List<RecoveryStore.StoredTablet> remaining, CrashedLog log) {
        List<RecoveryStore.Server> masters = store.servers().stream()
                .filter(s -> s.id() != masterId && s.runs("master") && store.isLive(s.id())).toList();
        if (masters.isEmpty()) {
            phase("waiting for a live master to recover onto");
            return false;
        }
        Map<Long, BigInteger> widthByTable = new HashMap<>();
        for (RecoveryStore.StoredTablet t : remaining) {
            widthByTable.merge(t.tablet().getTableId(), width(t.tablet()), BigInteger::add);
        }
        partitionsPlanned = Math.max(partitionsPlanned, partitionsDone + remaining.size());
        Map<Long, Integer> load = new HashMap<>();
        for (RecoveryStore.StoredTablet t : remaining) {
            long assigned = t.tablet().getRecoveryMasterId();
            if (assigned != 0) {
                load.merge(assigned, 1, Integer::sum);
            }
        }
        // Every partition is named in each request, so a backup cuts each replica once for all of them.
        Map<String, RecoveryPartition> partitions = new LinkedHashMap<>();
        for (RecoveryStore.StoredTablet t : remaining) {
            partitions.put(t.table() + "/" + t.node(), RecoveryPartition.newBuilder().addRanges(range(t.tablet())).build());
        }
        List<CompletableFuture<Boolean>> running = new ArrayList<>();
        for (RecoveryStore.StoredTablet t : remaining) {
            RecoveryStore.StoredTablet tablet = t;
            long assigned = t.tablet().getRecoveryMasterId();
            Optional<RecoveryStore.Server> master = masters.stream().filter(m -> m.id() == assigned
                    && !declined(t, m)).findFirst();
            if (master.isEmpty()) {
                master = masters.stream().filter(m -> !declined(t, m))
                        .min((a, b) -> Integer.compare(load.getOrDefault(a.id(), 0), load.getOrDefault(b.id(), 0)));
                if (master.isEmpty()) {
                    synchronized (this) {
                        declined.removeIf(d -> d.startsWith(t.node() + "@" + t.table() + "@"));
                    }
                    phase("every live master declined a partition of " + t.table() + "; retrying");
                    continue;
                }
                if (!store.assign(List.of(t), master.get().id())) {
                    continue;
                }
                load.merge(master.get().id(), 1, Integer::sum);
                tablet = store.tablets().stream().filter(s -> s.table().equals(t.table()) && s.node().equals(t.node()))
                        .findFirst().orElse(null);
                if (tablet == null) {
                    continue;
                }
            }
            RecoveryStore.Server target = master.get();
            RecoveryStore.StoredTablet assignedTablet = tablet;
            long[] estimate = estimate(t.tablet(), log, widthByTable);
            RecoverPartitionRequest request = RecoverPartitionRequest.newBuilder()
                    .setCoordinatorEpoch(coordinatorEpoch.getAsLong()).setServerId(target.id())
                    .setCrashedMasterId(masterId)
                    .addRanges(range(t.tablet()))
                    .addAllSegments(log.sources()).setSafeVersion(log.safeVersion()).setEstimatedBytes(estimate[0])
                    .setEstimatedObjects(estimate[1])
                    .addAllOtherPartitions(partitions.entrySet().stream()
                            .filter(e -> !e.getKey().equals(t.table() + "/" + t.node())).map(Map.Entry::getValue).toList())
                    .build();
            running.add(CompletableFuture.supplyAsync(() -> recoverOne(assignedTablet, target, request), calls));
        }
        phase("replaying " + running.size() + " partition(s) on " + masters.size() + " live master(s)");
        boolean all = true;
        for (CompletableFuture<Boolean> f : running) {
            all &= f.join();
        }
        return all && remaining().isEmpty() && finish();
    }

    private static KeyHashRange range(Tablet t) {
        return KeyHashRange.newBuilder().setTableId(t.getTableId()).setStartHash(t.getStartHash())
                .setEndHash(t.getEndHash()).build();
    }

    private synchronized boolean declined(RecoveryStore.StoredTablet t, RecoveryStore.Server m) {
        return declined.contains(t.node() + "@" + t.table() + "@" + m.id());
    }

    private boolean recoverOne(RecoveryStore.StoredTablet tablet, RecoveryStore.Server master,
                               RecoverPartitionRequest request) {
        RecoverPartitionResponse answer;
        try {
            answer = rpc.recoverPartition(master.address(), request);
        } catch (RecoveryRpc.RecoveryRpcException e) {
            LOG.warn("recovery of {}: {} did not answer for {}/{}: {}", name(), master.address(), tablet.table(),
                    tablet.node(), e.getMessage());
            synchronized (this) {
                declined.add(tablet.node() + "@" + tablet.table() + "@" + master.id());
            }
            return false;
        }
        if (answer.getStatus() != Status.OK) {
            LOG.warn("recovery of {}: {} declined {}/{}: {} {}", name(), master.address(), tablet.table(),
                    tablet.node(), answer.getStatus(), answer.getMessage());
            synchronized (this) {
                declined.add(tablet.node() + "@" + tablet.table() + "@" + master.id());
            }
            return false;
        }
        if (!store.complete(List.of(tablet), master.id(), answer.getLogSegmentId(), answer.getLogOffset())) {
            return false;
        }
        synchronized (this) {
            partitionsDone++;
            bytesReplayed += answer.getBytesReplayed();
            objectsRecovered += answer.getObjects();
            recoveryMasters.add(master.id());
        }
        phase("replaying: " + partitionsDone + " of " + partitionsPlanned + " partition(s) done");
        LOG.info("recovery of {}: {}/{} [{}, {}] now served by {} ({} objects, {} bytes replayed in {} ms)", name(),
                tablet.table(), tablet.node(), Long.toHexString(tablet.tablet().getStartHash()),
                Long.toHexString(tablet.tablet().getEndHash()), master.address(), answer.getObjects(),
                answer.getBytesReplayed(), answer.getReplayNanos() / 1_000_000);
        return true;
    }

    private boolean finish() {
        phase("freeing the crashed master's replicas");
        for (RecoveryStore.Server s : store.servers()) {
            if (s.id() != masterId && s.runs("backup") && store.isLive(s.id())) {
                try {
                    FreeMasterReplicasResponse freed = rpc.freeMasterReplicas(s.address(), masterId,
                            coordinatorEpoch.getAsLong());
                    if (freed.getStatus() != Status.OK) {
                        return false;
                    }
                } catch (RecoveryRpc.RecoveryRpcException e) {
                    return false;
                }
            }
        }
        store.finish(masterId);
        long ms = (System.nanoTime() - startedAtNanos) / 1_000_000;
        phase("done");
        LOG.info("recovery of {} done in {} ms: {} partition(s) on {} master(s), {} objects, {} MB replayed", name(), ms,
                partitionsDone, recoveryMasters.size(), objectsRecovered, bytesReplayed / 1_000_000);
        return true;
    }
}
