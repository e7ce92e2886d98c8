package io.ferrite.master.replication;

import io.ferrite.log.SegmentCertificate;
import io.ferrite.master.epoch.EpochManager;
import io.ferrite.master.log.LogSegment;
import io.ferrite.master.log.MasterLog;
import io.ferrite.proto.replication.BooleanType;
import io.ferrite.proto.replication.MessageHeaderDecoder;
import io.ferrite.proto.replication.RejectReason;
import io.ferrite.proto.replication.ReplicaAckDecoder;
import io.ferrite.proto.replication.ReplicaRejectDecoder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replication sender as an Agrona {@link Agent}: one duty cycle ({@link #doWork()}) reads
 * the clock once, takes the answers from backups, applies what the log reported (segments
 * opened, certified, closed, freed), places and sends what every replica lacks, completes the
 * waiters whose bytes are durable, and frees the replicas of cleaned segments once that is safe.
 * All replication state is owned by the thread that runs the duty cycle; the log's thread and
 * writers only queue commands ({@link ReplicaManager} is the facade).
 *
 * <p>Invariants kept here (issue 9):
 * <ul>
 *   <li>I1: a waiter completes only when every one of R replicas acknowledged its bytes as
 *       <em>certified</em> (backups acknowledge the prefix their last certificate covers).</li>
 *   <li>I2: the replicas of a cleaned segment are freed only once a head opened after it left
 *       the log has its log digest (which omits it) durable on R replicas, and every closed
 *       segment (the cleaner's survivors among them) is complete.</li>
 *   <li>I3: a replica is always one in-memory copy's bytes under that copy's certificate; when
 *       the cleaner compacts a segment, replicas not yet complete start over under a new
 *       epoch; an unexpected exception abandons and re-creates the affected replicas (counted,
 *       logged once per kind), backing off, without holding up other segments.</li>
 * </ul>
 */
public final class ReplicationAgent implements Agent {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationAgent.class);
    /**
     * Appends one replica may have unanswered. Each carries everything certified since the one
     * before (group commit); more than one in flight keeps the link busy while answers travel.
     */
    static final int MAX_APPENDS_IN_FLIGHT = 4;
    /** Timeouts without an answer after which a backup's replica is placed elsewhere. */
    static final int REPLACE_AFTER_TIMEOUTS = 2;
    static final long MEMBERSHIP_CHECK_NS = TimeUnit.MILLISECONDS.toNanos(20);
    static final long REOPEN_DELAY_NS = TimeUnit.MILLISECONDS.toNanos(50);
    static final long MAX_REOPEN_DELAY_NS = TimeUnit.SECONDS.toNanos(1);
    /**
     * How long a backup may refuse this master as not in the cluster, while this master's own
     * view is trusted, before its replica goes elsewhere: a backup's cached view lags a
     * registration or a rejoin by tens of milliseconds.
     */
    static final long NOT_IN_CLUSTER_GRACE_NS = TimeUnit.SECONDS.toNanos(3);

    static final long STATS_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(20);
    static final long FIRST_FAULT_BACKOFF_NS = TimeUnit.MILLISECONDS.toNanos(1);
    static final long MAX_FAULT_BACKOFF_NS = TimeUnit.SECONDS.toNanos(1);
    private static final int REPLIES_PER_CYCLE = 64;
    private static final int SYNC_READ_ATTEMPTS = 4;

    private sealed interface Command {
    }

    private record Opened(long segmentId) implements Command {
    }

    private record Closed(long segmentId, SegmentCertificate certificate) implements Command {
    }

    private record Freed(long segmentId) implements Command {
    }

    private record Inspect(CompletableFuture<ReplicaManager.Placement> answer) implements Command {
    }

    private final int factor;
    private MasterLog log;
    private EpochManager epochs;
    private final ReplicaTransport transport;
    private final ReplicaMessages messages;
    private final LongSupplier selfId;
    private final BackupPlacement placement;
    private final java.util.function.BooleanSupplier viewTrusted;
    private final NanoClock clock;
    private final long ackTimeoutNs;

    // ---- written by other threads ----
    private final ConcurrentLinkedQueue<Command> commands = new ConcurrentLinkedQueue<>();
    /** The newest sync, as a sequence lock: odd while the log's thread writes it. */
    private final AtomicLong syncSequence = new AtomicLong();
    private volatile long syncSegmentId;
    private volatile int syncLength;
    private volatile int syncChecksum;

    // ---- published by the agent ----
    private final DurabilityTracker durability;
    private volatile boolean awaitingAnswers;
    private volatile ReplicaManager.Stats stats = new ReplicaManager.Stats(0, 0, 0, 0, 0, 0, 0, 0, 0);

    // ---- owned by the agent's thread ----
    private final LinkedHashMap<Long, SegmentReplicas> tracked = new LinkedHashMap<>();
    private final List<SegmentReplicas> pendingFrees = new ArrayList<>();
    private final Set<Class<?>> faultKindsLogged = new HashSet<>();
    private final MessageHeaderDecoder replyHeader = new MessageHeaderDecoder();
    private final ReplicaAckDecoder ack = new ReplicaAckDecoder();
    private final ReplicaRejectDecoder reject = new ReplicaRejectDecoder();
    private final ReplicaTransport.ReplyHandler onReply = this::onReply;
    private long nowNs;
    private long openings;
    private long lastOpenedOrder;
    private long durableDigestOrder;
    private long highestSegmentId;
    private long lastMembershipCheckNs;
    private long lastStatsNs;
    private long replicasOpened;
    private long bytesSent;
    private long messagesSent;
    private long backPressured;
    private long replicasReplaced;
    private long faults;

    /**
     * @param factor            replicas per segment (R, at least 1)
     * @param transport         how backups are reached
     * @param maxChunkBytes     most log bytes in one append message
     * @param selfId            this master's server id (0 until registered)
     * @param liveBackups       the servers that run a backup service and are live
     * @param selfFailureDomain this master's failure domain (replicas go to other domains first)
     * @param viewTrusted       whether the live set (and backups' refusals as not in the cluster) can be
     *                          trusted now: false while this master's lease is not valid
     * @param clock             read once per duty cycle
     * @param ackTimeoutNs      how long an answer may take before the message is sent again
     */
    public ReplicationAgent(int factor, ReplicaTransport transport,
                            int maxChunkBytes, LongSupplier selfId, Supplier<List<ReplicaManager.Backup>> liveBackups,
                            Supplier<String> selfFailureDomain, java.util.function.BooleanSupplier viewTrusted,
                            NanoClock clock, long ackTimeoutNs) {
        if (factor < 1) {
            throw new IllegalArgumentException("a replica manager needs at least 1 replica, got " + factor);
        }
        this.factor = factor;
        this.transport = transport;
        this.messages = new ReplicaMessages(maxChunkBytes);
        this.selfId = selfId;
        this.placement = new BackupPlacement(selfId, liveBackups, selfFailureDomain);
        this.viewTrusted = viewTrusted;
        this.clock = clock;
        this.ackTimeoutNs = ackTimeoutNs;
        this.durability = new DurabilityTracker(factor);
    }

    /**
     * Gives the agent the log it replicates, before its first duty cycle (the log reports to the
     * agent from its construction on; those reports wait in the queue).
     *
     * @param log    the master's log (bytes are read from its segments)
     * @param epochs guards reads of segments the cleaner may free
     */
    public ReplicationAgent attach(MasterLog log, EpochManager epochs) {
        this.log = log;
        this.epochs = epochs;
        durability.segmentCapacity(log.segmentCapacityBytes());
        return this;
    }

    @Override
    public String roleName() {
        return "ferrite-replication";
    }

    // ---- commands from other threads (the log's, under its append lock, and writers') ----

    void segmentOpened(long segmentId) {
        durability.segmentOpened(segmentId);
        commands.add(new Opened(segmentId));
    }

    void sync(long segmentId, int lengthBytes, int certificateChecksum) {
        long sequence = syncSequence.get();
        syncSequence.set(sequence + 1);
        syncSegmentId = segmentId;
        syncLength = lengthBytes;
        syncChecksum = certificateChecksum;
        syncSequence.set(sequence + 2);
    }

    void segmentClosed(long segmentId, SegmentCertificate certificate) {
        commands.add(new Closed(segmentId, certificate));
        durability.segmentClosed();
    }

    void segmentFreed(long segmentId) {
        commands.add(new Freed(segmentId));
    }

    boolean replicated(long segmentId) {
        return durability.replicated(segmentId);
    }

    CompletableFuture<Void> whenDurable(long segmentId, int length) {
        return durability.whenDurable(segmentId, length);
    }

    /** See {@link ReplicaManager#isDurable}. */
    boolean isDurable(long segmentId, int length) {
        return durability.isDurable(segmentId, length);
    }

    CompletableFuture<ReplicaManager.Placement> placement() {
        CompletableFuture<ReplicaManager.Placement> answer = new CompletableFuture<>();
        commands.add(new Inspect(answer));
        return answer;
    }

    ReplicaManager.Stats stats() {
        return stats;
    }

    /** Whether a command or waiter is queued (the idle strategy does not park then). */
    boolean hasInput() {
        return !commands.isEmpty() || durability.hasNewWaiters();
    }

    /** Whether a backup's answer is due (the idle strategy parks only briefly then). */
    boolean awaitingAnswers() {
        return awaitingAnswers;
    }

    int factor() {
        return factor;
    }

    // ---- the duty cycle ----

    @Override
    public int doWork() {
        if (log == null) {
            return 0;
        }
        nowNs = clock.nanoTime();
        long closedSeen = durability.closedCount();
        int work = transport.pollReplies(onReply, REPLIES_PER_CYCLE);
        Command command;
        while ((command = commands.poll()) != null) {
            apply(command);
            work++;
        }
        work += durability.drainNewWaiters();
        applySync();
        if (selfId.getAsLong() == 0) {
            return work; // not registered yet: backups would refuse an unknown master
        }
        if (nowNs - lastMembershipCheckNs > MEMBERSHIP_CHECK_NS) {
            lastMembershipCheckNs = nowNs;
            replaceLostBackups();
        }
        SegmentReplicas previous = null;
        for (SegmentReplicas t : tracked.values()) {
            if (previous != null) {
                work += advanceSafely(previous, t);
            }
            previous = t;
        }
        if (previous != null) {
            work += advanceSafely(previous, null);
        }
        work += durability.completeWaiters(tracked.values(), tracked, log, nowNs);
        work += releaseFrees();
        publish(closedSeen);
        if (nowNs - lastStatsNs > STATS_INTERVAL_NS) {
            lastStatsNs = nowNs;
            publishStats();
        }
        return work;
    }

    private void apply(Command command) {
        switch (command) {
            case Opened o -> {
                highestSegmentId = Math.max(highestSegmentId, o.segmentId());
                if (!tracked.containsKey(o.segmentId())) {
                    SegmentReplicas t = new SegmentReplicas(o.segmentId(), log.segmentCapacityBytes(), ++openings);
                    lastOpenedOrder = t.order;
                    tracked.put(o.segmentId(), t);
                }
            }
            case Closed c -> {
                SegmentReplicas t = tracked.get(c.segmentId());
                if (t != null) {
                    t.certifiedLength = c.certificate().lengthBytes();
                    t.certifiedChecksum = c.certificate().checksum();
                    t.closed = true;
                }
            }
            case Freed f -> {
                SegmentReplicas t = tracked.remove(f.segmentId());
                if (t != null) {
                    // Its waiters complete at once: the cleaner takes only complete segments.
                    durability.freed(t);
                    // Freed on the backups only once the digest that omits it is durable (releaseFrees).
                    t.freeAfterDigestOrder = lastOpenedOrder;
                    pendingFrees.add(t);
                }
            }
            case Inspect i -> i.answer().complete(placementNow());
        }
    }

    /** The newest certificate of the head, as the log last reported it (read under a sequence lock). */
    private void applySync() {
        for (int attempt = 0; attempt < SYNC_READ_ATTEMPTS; attempt++) {
            long before = syncSequence.get();
            if ((before & 1) != 0) {
                Thread.onSpinWait();
                continue;
            }
            long segmentId = syncSegmentId;
            int length = syncLength;
            int checksum = syncChecksum;
            if (syncSequence.get() != before) {
                continue;
            }
            SegmentReplicas t = segmentId == 0 ? null : tracked.get(segmentId);
            if (t != null && !t.closed && length > t.certifiedLength) {
                t.certifiedLength = length;
                t.certifiedChecksum = checksum;
                if (t.digestLength == 0) {
                    t.digestLength = length;
                }
            }
            return;
        }
    }

    private ReplicaManager.Placement placementNow() {
        boolean full = true;
        Set<Long> backups = new TreeSet<>();
        Map<Long, Set<Long>> bySegment = new HashMap<>();
        for (SegmentReplicas t : tracked.values()) {
            full &= t.closed ? t.complete(factor) : t.openOnAll(factor);
            Set<Long> holders = holders(t);
            backups.addAll(holders);
            bySegment.put(t.segmentId, holders);
        }
        for (SegmentReplicas t : pendingFrees) {
            bySegment.put(t.segmentId, holders(t));
        }
        return new ReplicaManager.Placement(full, Set.copyOf(backups), Map.copyOf(bySegment), highestSegmentId);
    }

    private static Set<Long> holders(SegmentReplicas t) {
        Set<Long> holders = new HashSet<>();
        for (Replica r : t.replicas) {
            holders.add(r.backupId());
        }
        return Set.copyOf(holders);
    }

    // ---- placing and sending ----

    private int advanceSafely(SegmentReplicas t, SegmentReplicas next) {
        if (t.done || nowNs < t.retryAfterNs) {
            return 0;
        }
        try {
            int work = advance(t, next);
            if (t.done) {
                t.faultBackoffNs = 0;
            }
            return work;
        } catch (RuntimeException e) {
            onFault(t, e);
            return 1;
        }
    }

    /**
     * An unexpected exception while replicating a segment: counted, logged once per kind, the
     * segment's incomplete replicas abandoned and re-created, and the segment left alone for a
     * while (doubling up to a second) so a fault that repeats cannot spin.
     */
    private void onFault(SegmentReplicas t, RuntimeException e) {
        faults++;
        if (faultKindsLogged.add(e.getClass())) {
            LOG.error("replication of segment {} failed ({}); its incomplete replicas start over "
                    + "(further faults of this kind are only counted)", t.segmentId, e.toString(), e);
        }
        restartIncomplete(t);
        t.faultBackoffNs = t.faultBackoffNs == 0 ? FIRST_FAULT_BACKOFF_NS
                : Math.min(MAX_FAULT_BACKOFF_NS, t.faultBackoffNs * 2);
        t.retryAfterNs = nowNs + t.faultBackoffNs;
    }

    /** Replaces every replica of {@code t} that is not complete by a new one on the same backup, a higher epoch. */
    private void restartIncomplete(SegmentReplicas t) {
        for (int i = 0; i < t.replicas.size(); i++) {
            Replica r = t.replicas.get(i);
            if (!r.closeAcked) {
                t.replicas.set(i, new Replica(r.backup, t.nextEpoch++, MAX_APPENDS_IN_FLIGHT));
            }
        }
        regressDurability(t);
    }

    /** A replica of {@code t} holds less than before: readers must check again. */
    private void regressDurability(SegmentReplicas t) {
        durability.regressed(t);
    }

    /**
     * Places missing replicas and sends what each replica lacks; returns messages sent. A
     * segment is closed on its backups only once the segment after it in the log is open on all
     * of its own (DESIGN §4: the new head is durably open before the old one closes), so the
     * backups never hold a closed end of the log without its successor.
     */
    private int advance(SegmentReplicas t, SegmentReplicas next) {
        LogSegment current = log.segment(t.segmentId);
        if (current == null) {
            return 0; // not in the log yet (a survivor being committed) or freed (its Freed command follows)
        }
        if (t.source == null) {
            t.source = current;
        } else if (current != t.source) {
            onCompacted(t, current);
        }
        boolean successorOpen = next == null || next.openOnAll(factor);
        int work = 0;
        while (t.replicas.size() < factor) {
            ReplicaManager.Backup target = placement.choose(t, nowNs);
            if (target == null && !t.excluded.isEmpty()) {
                t.excluded.clear(); // every other backup failed too: try the excluded ones again
                target = placement.choose(t, nowNs);
            }
            if (target == null) {
                break; // no backup available: writes wait; placement retries each cycle
            }
            t.replicas.add(new Replica(target, t.nextEpoch++, MAX_APPENDS_IN_FLIGHT));
            placement.placed(target.serverId());
            work++;
        }
        for (int i = 0; i < t.replicas.size(); i++) {
            work += advance(t, t.replicas.get(i), successorOpen);
        }
        if (t.complete(factor)) {
            durability.completed(t);
        }
        return work;
    }

    private int advance(SegmentReplicas t, Replica r, boolean successorOpen) {
        if (r.awaitingAnswer()) {
            if (nowNs - r.oldestOutstandingNs() > ackTimeoutNs) {
                r.timeouts++;
                if (!r.openAcked) {
                    r.openSent = false;
                }
                r.resendFromAcknowledged(); // an answer (or the message) may have been lost
            } else if (r.openSent && !r.openAcked || r.closeSent || !r.canSendAppend()) {
                return 0;
            }
        }
        if (!r.openSent) {
            return nowNs >= r.retryAfterNs && sendOpen(r, t) ? 1 : 0;
        }
        if (!r.openAcked) {
            return 0;
        }
        if (r.sentLength < t.certifiedLength) {
            return sendAppend(r, t) ? 1 : 0;
        }
        if (t.closed && !r.closeSent && r.ackedLength >= t.certifiedLength && successorOpen) {
            return sendClose(r, t) ? 1 : 0;
        }
        return 0;
    }

    /**
     * The cleaner compacted a closed segment (same id, new bytes): replicas already complete keep
     * the old copy, which is as good; the others start over from the new copy, under its certificate.
     */
    private void onCompacted(SegmentReplicas t, LogSegment compacted) {
        SegmentCertificate certificate = compacted.writer().certificate();
        LOG.debug("segment {} was compacted ({} -> {} bytes) while replicas were incomplete; they start over",
                t.segmentId, t.certifiedLength, certificate.lengthBytes());
        t.source = compacted;
        t.certifiedLength = certificate.lengthBytes();
        t.certifiedChecksum = certificate.checksum();
        restartIncomplete(t);
    }

    /**
     * Replaces replicas on backups that left the live set or stopped answering; while the view
     * is not trusted, only forgets the timeouts counted meanwhile.
     */
    private void replaceLostBackups() {
        if (!viewTrusted.getAsBoolean()) {
            for (SegmentReplicas t : tracked.values()) {
                for (int i = 0; i < t.replicas.size(); i++) {
                    t.replicas.get(i).timeouts = 0;
                }
            }
            return;
        }
        Set<Long> live = new HashSet<>();
        for (ReplicaManager.Backup b : placement.live()) {
            live.add(b.serverId());
        }
        for (SegmentReplicas t : tracked.values()) {
            Iterator<Replica> it = t.replicas.iterator();
            while (it.hasNext()) {
                Replica r = it.next();
                boolean gone = !live.contains(r.backupId());
                boolean silent = r.timeouts >= REPLACE_AFTER_TIMEOUTS;
                if (gone || silent) {
                    LOG.warn("segment {}: replica on backup {} {}; re-replicating it elsewhere", t.segmentId,
                            r.backupId(), gone ? "left the cluster" : "stopped answering");
                    it.remove();
                    dropped(t, r);
                }
            }
        }
    }

    private void dropped(SegmentReplicas t, Replica r) {
        t.excluded.add(r.backupId());
        placement.released(r.backupId());
        replicasReplaced++;
        regressDurability(t);
    }

    private boolean offer(Replica r, int length) {
        int result = transport.offer(r.backup, messages.buffer(), 0, length);
        if (result == ReplicaTransport.SENT) {
            messagesSent++;
            r.lastSendNs = nowNs;
            return true;
        }
        if (result == ReplicaTransport.BACK_PRESSURED) {
            backPressured++;
        } else if (r.lastSendNs == 0) {
            r.lastSendNs = nowNs; // not connected (yet, or the backup is gone): counts toward replacing it
        } else if (nowNs - r.lastSendNs > ackTimeoutNs) {
            r.timeouts++;
            r.lastSendNs = nowNs;
        }
        return false;
    }

    private boolean sendOpen(Replica r, SegmentReplicas t) {
        int length = messages.encodeOpen(selfId.getAsLong(), t.segmentId, r.epoch, t.capacity,
                transport.replyEndpoint(r.backup));
        if (offer(r, length)) {
            r.openSent = true;
            replicasOpened++;
            return true;
        }
        return false;
    }

    private boolean sendAppend(Replica r, SegmentReplicas t) {
        int from = r.sentLength;
        int to = Math.min(t.certifiedLength, from + messages.maxChunkBytes());
        boolean last = to == t.certifiedLength;
        int length;
        int token = epochs.enter();
        try {
            LogSegment segment = log.segment(t.segmentId);
            if (segment == null || segment != t.source) {
                return false; // freed (its Freed command follows) or compacted (noticed next cycle)
            }
            length = messages.encodeAppend(selfId.getAsLong(), t.segmentId, r.epoch, segment.memory(), from,
                    to - from, last ? t.certifiedLength : 0, last ? t.certifiedChecksum : 0);
        } finally {
            epochs.exit(token);
        }
        if (offer(r, length)) {
            r.appendSent(to, nowNs);
            bytesSent += to - from;
            return true;
        }
        return false;
    }

    private boolean sendClose(Replica r, SegmentReplicas t) {
        int length = messages.encodeClose(selfId.getAsLong(), t.segmentId, r.epoch, t.certifiedLength,
                t.certifiedChecksum);
        if (offer(r, length)) {
            r.closeSent = true;
            return true;
        }
        return false;
    }

    private void sendFree(Replica r, SegmentReplicas t) {
        // Best effort: a backup that misses it learns from reconciling with this master.
        offer(r, messages.encodeFree(selfId.getAsLong(), t.segmentId));
    }

    // ---- answers ----

    private void onReply(DirectBuffer buffer, int offset, int length) {
        if (length < MessageHeaderDecoder.ENCODED_LENGTH) {
            return;
        }
        replyHeader.wrap(buffer, offset);
        if (replyHeader.schemaId() != ReplicaAckDecoder.SCHEMA_ID) {
            return;
        }
        int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        switch (replyHeader.templateId()) {
            case ReplicaAckDecoder.TEMPLATE_ID -> {
                ack.wrap(buffer, body, replyHeader.blockLength(), replyHeader.version());
                Replica r = find(ack.segmentId(), ack.backupId(), ack.epoch());
                if (r != null) {
                    r.openAcked = true;
                    r.timeouts = 0;
                    r.notInClusterSinceNs = 0;
                    r.reopenDelayNs = 0;
                    r.acknowledged((int) Math.min(ack.bufferedLength(), Integer.MAX_VALUE),
                            (int) Math.min(ack.certifiedLength(), Integer.MAX_VALUE));
                    if (ack.closed() == BooleanType.TRUE) {
                        r.closeAcked = true;
                    }
                }
            }
            case ReplicaRejectDecoder.TEMPLATE_ID -> {
                reject.wrap(buffer, body, replyHeader.blockLength(), replyHeader.version());
                onReject(reject.segmentId(), reject.backupId(), reject.epoch(), reject.reason(),
                        (int) Math.min(reject.bufferedLength(), Integer.MAX_VALUE));
            }
            default -> {
            }
        }
    }

    private Replica find(long segmentId, long backupId, long epoch) {
        SegmentReplicas t = tracked.get(segmentId);
        return t == null ? null : t.find(backupId, epoch);
    }

    private void onReject(long segmentId, long backupId, long epoch, RejectReason reason, int bufferedLength) {
        SegmentReplicas t = tracked.get(segmentId);
        Replica r = find(segmentId, backupId, epoch);
        if (t == null || r == null) {
            return;
        }
        if (reason == RejectReason.OUT_OF_ORDER && r.openAcked) {
            r.ackedLength = bufferedLength; // what the backup holds: send again from there
            r.resendFromAcknowledged();
            return;
        }
        if (reason == RejectReason.NOT_IN_CLUSTER) {
            // The backup's view may lag this master's registration or rejoin: open again, backing off,
            // for as long as this master's own view is not trusted, and for a grace period after.
            if (r.notInClusterSinceNs == 0 || !viewTrusted.getAsBoolean()) {
                r.notInClusterSinceNs = nowNs;
            }
            if (nowNs - r.notInClusterSinceNs < NOT_IN_CLUSTER_GRACE_NS) {
                r.reopenDelayNs = r.reopenDelayNs == 0 ? REOPEN_DELAY_NS
                        : Math.min(MAX_REOPEN_DELAY_NS, r.reopenDelayNs * 2);
                r.reopen(nowNs + r.reopenDelayNs);
                return;
            }
        }
        if (reason == RejectReason.NO_BUFFER_FREE || reason == RejectReason.NO_SPACE
                || reason == RejectReason.IO_ERROR) {
            if (placement.refusedForRoom(backupId, nowNs)) {
                LOG.warn("backup {} refused a replica of segment {} ({}); placing replicas elsewhere for {} s",
                        backupId, segmentId, reason,
                        TimeUnit.NANOSECONDS.toSeconds(BackupPlacement.REFUSING_BACKUP_PAUSE_NS));
            }
        } else {
            LOG.warn("segment {}: backup {} refused its replica ({}); placing it elsewhere", segmentId, backupId,
                    reason);
        }
        t.replicas.remove(r);
        dropped(t, r);
    }

    // ---- durability ----

    /**
     * Frees on the backups the replicas of segments the cleaner freed, once (I2) a head opened
     * after they left the log has its digest durable, and every closed segment still in the log
     * (the survivors that took their live data among them) is complete: until then a crash must
     * still find the data, and a digest naming them, in the old replicas.
     */
    private int releaseFrees() {
        if (pendingFrees.isEmpty()) {
            return 0;
        }
        for (SegmentReplicas t : tracked.values()) {
            if (t.closed && !t.done && !t.complete(factor)) {
                return 0;
            }
        }
        int freed = 0;
        Iterator<SegmentReplicas> it = pendingFrees.iterator();
        while (it.hasNext()) {
            SegmentReplicas t = it.next();
            if (t.freeAfterDigestOrder > durableDigestOrder) {
                continue;
            }
            for (Replica r : t.replicas) {
                sendFree(r, t);
                placement.released(r.backupId());
                freed++;
            }
            it.remove();
        }
        return freed;
    }

    /** Publishes what other threads read: readers' durability, whether an answer is due, the durable digest. */
    private void publish(long closedSeen) {
        boolean awaiting = false;
        for (SegmentReplicas t : tracked.values()) {
            if (t.digestLength > 0 && t.order > durableDigestOrder && t.durableLength(factor) >= t.digestLength) {
                durableDigestOrder = t.order;
            }
            for (int i = 0; !awaiting && i < t.replicas.size(); i++) {
                awaiting = t.replicas.get(i).awaitingAnswer();
            }
        }
        awaitingAnswers = awaiting;
        durability.publish(tracked.values(), closedSeen);
    }

    private void publishStats() {
        stats = new ReplicaManager.Stats(replicasOpened, bytesSent, messagesSent, backPressured, replicasReplaced,
                durability.stallNs(nowNs), tracked.size(), durability.waiters(), faults);
    }

    /** The replication state, for a failing test's message (agent's thread only). */
    String describe() {
        StringBuilder b = new StringBuilder("replication state:");
        for (SegmentReplicas t : tracked.values()) {
            b.append("\n segment ").append(t.segmentId).append(" certified ").append(t.certifiedLength)
                    .append(t.closed ? " closed" : " open").append(t.done ? " done" : "")
                    .append(" waiters ").append(t.waiters.size());
            for (Replica r : t.replicas) {
                b.append("\n   backup ").append(r.backupId()).append(" epoch ").append(r.epoch)
                        .append(" open ").append(r.openSent).append('/').append(r.openAcked)
                        .append(" sent ").append(r.sentLength).append(" acked ").append(r.ackedLength)
                        .append(" close ").append(r.closeSent).append('/').append(r.closeAcked)
                        .append(" inFlight ").append(r.inFlight()).append(" timeouts ").append(r.timeouts);
            }
        }
        b.append("\n unplaced waiters ").append(durability.unplaced()).append(", pending frees ").append(pendingFrees.size());
        return b.toString();
    }

    /** On the agent's thread as it stops: nothing more will complete the waiters, so they fail. */
    @Override
    public void onClose() {
        List<SegmentReplicas.Waiter> left = new ArrayList<>();
        for (SegmentReplicas t : tracked.values()) {
            left.addAll(t.waiters);
        }
        for (SegmentReplicas t : pendingFrees) {
            left.addAll(t.waiters);
        }
        durability.failAll(left);
        Command command;
        while ((command = commands.poll()) != null) {
            if (command instanceof Inspect i) {
                i.answer().completeExceptionally(new IllegalStateException("replication stopped"));
            }
        }
        transport.close();
    }
}
