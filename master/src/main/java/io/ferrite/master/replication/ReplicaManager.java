package io.ferrite.master.replication;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.Header;
import io.ferrite.log.SegmentCertificate;
import io.ferrite.master.epoch.EpochManager;
import io.ferrite.master.log.LogSegment;
import io.ferrite.master.log.MasterLog;
import io.ferrite.master.log.ReplicationHook;
import io.ferrite.proto.ReplicationStreams;
import io.ferrite.proto.replication.AppendReplicaEncoder;
import io.ferrite.proto.replication.BooleanType;
import io.ferrite.proto.replication.CloseReplicaEncoder;
import io.ferrite.proto.replication.FreeReplicaEncoder;
import io.ferrite.proto.replication.MessageHeaderDecoder;
import io.ferrite.proto.replication.MessageHeaderEncoder;
import io.ferrite.proto.replication.OpenReplicaEncoder;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's end of replication: sends every segment of the log to {@code R} backups over
 * Aeron and tells waiting writers when the bytes holding their writes are buffered on all of
 * them.
 *
 * <p>The log calls the {@link ReplicationHook} methods under its append lock; they only queue an
 * event and wake the sender thread. The sender thread owns all replication state: it opens
 * replicas (on backups it picks: not this server, not one already holding the segment,
 * distinct failure domains first, least loaded first), appends the bytes written since the
 * last round in one message per replica (<em>group commit</em>: while a round is
 * unacknowledged, new writes wait for the next), closes and frees replicas, and handles the
 * backups' acknowledgements and rejections on its reply subscription.
 *
 * <p>Durability: {@link #whenDurable(long, int)} completes once every replica of that segment
 * acknowledged at least that length and every earlier segment still in the log is complete on
 * all of its replicas. Futures complete on the sender thread.
 *
 * <p>Failures: a backup that leaves the cluster's live set, rejects a replica, or does not
 * answer within {@code ackTimeout} (after one resend) loses its replicas: each is opened on
 * another backup at a higher epoch and sent again from the master's memory; an open head is
 * re-replicated the same way (its stale replica on the lost backup has the lower epoch).
 * Writes stall meanwhile; {@link Stats#stallNs()} says for how long in total.
 */
public final class ReplicaManager implements ReplicationHook, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaManager.class);
    /**
     * Appends one replica may have unanswered. Each carries everything written since the one
     * before (group commit); more than one in flight keeps the link busy while answers travel.
     */
    static final int MAX_APPENDS_IN_FLIGHT = 4;
    private static final long AWAIT_PARK_NS = 20_000;

    /**
     * A backup the master may place replicas on, and the endpoint to reach it by: its UDP
     * channel, or its IPC stream when both share a media driver.
     */
    public record Backup(long serverId, ReplicationStreams.Endpoint endpoint, String failureDomain) {
    }

    /** Counters of the replica manager. */
    public record Stats(long replicasOpened, long bytesSent, long messagesSent, long backPressured,
                        long replicasReplaced, long stallNs, int segmentsTracked, int waiters) {
    }

    private sealed interface Event {
    }

    private record Opened(long segmentId) implements Event {
    }

    private record Synced(long segmentId, int length, int checksum) implements Event {
    }

    private record Closed(long segmentId, SegmentCertificate certificate) implements Event {
    }

    private record Freed(long segmentId) implements Event {
    }

    private record Inspect(CompletableFuture<Placement> answer) implements Event {
    }

    /**
     * Where the log's replicas are.
     *
     * @param fullyReplicated every segment has R replicas opened on their backups, and every closed
     *                        segment is complete on all of them
     * @param backups         the server ids of the backups holding replicas now
     * @param replicasBySegment for every segment the master still needs replicas of (those in the log,
     *                          and those the cleaner freed whose FREE has not been sent yet), the
     *                          backups it keeps them on
     * @param highestSegmentId  the highest segment id the sender had seen opened when it answered: a
     *                          backup's replica of a higher id is newer than this answer and must be kept
     */
    public record Placement(boolean fullyReplicated, Set<Long> backups, Map<Long, Set<Long>> replicasBySegment,
                            long highestSegmentId) {
    }

    private record Waiter(long segmentId, int length, CompletableFuture<Void> future) {
    }

    /** One replica of one segment on one backup. */
    private static final class Replica {
        final Backup backup;
        final long epoch;
        boolean openSent;
        boolean openAcked;
        int sentLength;
        int ackedLength;
        boolean closeSent;
        boolean closeAcked;
        long lastSendNs;
        long retryAfterNs;
        int timeouts;
        /** Appends sent and not yet covered by an acknowledgement: end offset and send time, oldest first. */
        final java.util.ArrayDeque<long[]> inFlight = new java.util.ArrayDeque<>();

        Replica(Backup backup, long epoch) {
            this.backup = backup;
            this.epoch = epoch;
        }

        boolean awaitingAnswer() {
            return openSent && !openAcked || !inFlight.isEmpty() || closeSent && !closeAcked;
        }

        /** When the oldest unanswered message went out. */
        long oldestOutstandingNs() {
            return !inFlight.isEmpty() && (openAcked && !closeSent) ? inFlight.peekFirst()[1] : lastSendNs;
        }

        void acknowledged(int length) {
            ackedLength = Math.max(ackedLength, length);
            while (!inFlight.isEmpty() && inFlight.peekFirst()[0] <= ackedLength) {
                inFlight.pollFirst();
            }
            if (sentLength < ackedLength) {
                sentLength = ackedLength;
            }
        }

        void resendFromAcknowledged() {
            sentLength = ackedLength;
            inFlight.clear();
            closeSent = false;
        }
    }

    /** Replication state of one segment of the log. */
    private static final class Tracked {
        final long segmentId;
        final int capacity;
        /** Writers waiting for bytes of this segment, shortest length first. */
        final java.util.PriorityQueue<Waiter> waiters = new java.util.PriorityQueue<>(
                java.util.Comparator.comparingInt(Waiter::length));
        /** Complete on all replicas, and listed in {@code complete}: nothing to send until a replica is lost. */
        boolean done;
        int certifiedLength;
        int certifiedChecksum;
        boolean closed;
        long nextEpoch = 1;
        final List<Replica> replicas = new ArrayList<>();
        final Set<Long> excluded = new HashSet<>();

        Tracked(long segmentId, int capacity) {
            this.segmentId = segmentId;
            this.capacity = capacity;
        }

        int durableLength(int factor) {
            if (replicas.size() < factor) {
                return 0;
            }
            int min = Integer.MAX_VALUE;
            for (Replica r : replicas) {
                min = Math.min(min, r.openAcked ? r.ackedLength : 0);
            }
            return min;
        }

        boolean openOnAll(int factor) {
            if (replicas.size() < factor) {
                return false;
            }
            for (Replica r : replicas) {
                if (!r.openAcked) {
                    return false;
                }
            }
            return true;
        }

        boolean complete(int factor) {
            if (!closed || replicas.size() < factor) {
                return false;
            }
            for (Replica r : replicas) {
                if (!r.closeAcked) {
                    return false;
                }
            }
            return true;
        }
    }

    private final int factor;
    private MasterLog log;
    private EpochManager epochs;
    private final Aeron aeron;
    private final LongSupplier selfId;
    private final Supplier<List<Backup>> liveBackups;
    private final ReplicationStreams.Endpoint udpReply;
    private final ReplicationStreams.Endpoint ipcReply;
    private volatile String selfFailureDomain = "";
    private final int maxChunkBytes;
    private final long ackTimeoutNs;
    private final List<Subscription> replies = new ArrayList<>();
    private final Map<Long, ExclusivePublication> publications = new HashMap<>();
    private final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Waiter> newWaiters = new ConcurrentLinkedQueue<>();
    private final LinkedHashMap<Long, Tracked> tracked = new LinkedHashMap<>();
    /** Waiters not yet on their segment's queue (its Opened event was not applied yet, or it left the log). */
    private final List<Waiter> unplaced = new ArrayList<>();
    private int waiterCount;
    /** Segments that left the log, whose replicas are freed once every closed segment is complete. */
    private final List<Tracked> pendingFrees = new ArrayList<>();
    private final ConcurrentHashMap<Long, Boolean> complete = new ConcurrentHashMap<>();
    private final Map<Long, Integer> load = new HashMap<>();
    private final Thread thread;
    private final UnsafeBuffer sendBuffer;
    private final byte[] chunk;
    private final MessageHeaderEncoder header = new MessageHeaderEncoder();
    private final OpenReplicaEncoder open = new OpenReplicaEncoder();
    private final AppendReplicaEncoder append = new AppendReplicaEncoder();
    private final CloseReplicaEncoder close = new CloseReplicaEncoder();
    private final FreeReplicaEncoder free = new FreeReplicaEncoder();
    private final MessageHeaderDecoder replyHeader = new MessageHeaderDecoder();
    private final ReplicaAckDecoder ack = new ReplicaAckDecoder();
    private final ReplicaRejectDecoder reject = new ReplicaRejectDecoder();
    private final FragmentAssembler assembler = new FragmentAssembler(this::onReply);
    private final AtomicLong correlation = new AtomicLong();
    private volatile boolean running = true;
    private volatile boolean parked;
    private long replicasOpened;
    private long bytesSent;
    private long messagesSent;
    private long backPressured;
    private long replicasReplaced;
    private long stallNs;
    private long stallSinceNs;
    private long lastMembershipCheckNs;
    private long highestSegmentId;
    private volatile Stats stats = new Stats(0, 0, 0, 0, 0, 0, 0, 0);

    /**
     * Creates the manager; the log's events queue up until {@link #start}.
     *
     * @param factor        replicas per segment (R, at least 1)
     * @param aeron         a connected Aeron client
     * @param selfId        this master's server id (known once registered)
     * @param liveBackups   the servers that run a backup service and are live, this one excluded
     * @param udpReply      where backups reached over UDP answer ({@code aeron:udp?endpoint=host:port},
     *                      stream {@link ReplicationStreams#REPLIES})
     * @param ipcReply      where backups reached over IPC answer (an IPC stream this master claimed),
     *                      or null if no backup shares this master's media driver
     * @param maxChunkBytes most log bytes in one append message
     * @param ackTimeout    how long an answer may take before the message is sent again, then the backup replaced
     */
    public ReplicaManager(int factor, Aeron aeron, LongSupplier selfId, Supplier<List<Backup>> liveBackups,
                          ReplicationStreams.Endpoint udpReply, ReplicationStreams.Endpoint ipcReply,
                          int maxChunkBytes, java.time.Duration ackTimeout) {
        if (factor < 1) {
            throw new IllegalArgumentException("a replica manager needs at least 1 replica, got " + factor);
        }
        this.factor = factor;
        this.aeron = aeron;
        this.selfId = selfId;
        this.liveBackups = liveBackups;
        this.udpReply = udpReply;
        this.ipcReply = ipcReply;
        this.maxChunkBytes = maxChunkBytes;
        this.ackTimeoutNs = ackTimeout.toNanos();
        this.chunk = new byte[maxChunkBytes];
        this.sendBuffer = new UnsafeBuffer(new byte[maxChunkBytes + 256]);
        for (ReplicationStreams.Endpoint reply : ipcReply == null ? List.of(udpReply) : List.of(udpReply, ipcReply)) {
            replies.add(aeron.addSubscription(reply.channel(), reply.streamId()));
        }
        this.thread = Thread.ofPlatform().daemon().unstarted(this::run);
        thread.setName("ferrite-replication");
        thread.setDaemon(true);
    }

    /**
     * Starts the sender thread.
     *
     * @param log    the master's log (bytes are read from its segments)
     * @param epochs guards reads of segments the cleaner may free
     */
    public ReplicaManager start(MasterLog log, EpochManager epochs) {
        this.log = log;
        this.epochs = epochs;
        thread.start();
        return this;
    }

    // ---- ReplicationHook: called under the log's append lock; queue and wake ----

    @Override
    public void segmentOpened(long segmentId) {
        complete.remove(segmentId);
        events.add(new Opened(segmentId));
        wake();
    }

    @Override
    public void sync(long segmentId, int lengthBytes, int certificateChecksum) {
        events.add(new Synced(segmentId, lengthBytes, certificateChecksum));
        wake();
    }

    @Override
    public void segmentClosed(long segmentId, SegmentCertificate certificate) {
        events.add(new Closed(segmentId, certificate));
        wake();
    }

    @Override
    public void segmentFreed(long segmentId) {
        events.add(new Freed(segmentId));
        wake();
    }

    @Override
    public boolean replicated(long segmentId) {
        return complete.containsKey(segmentId);
    }

    /**
     * Completes once the bytes up to {@code length} of segment {@code segmentId}, and every
     * earlier segment of the log, are buffered on all of their replicas.
     */
    public CompletableFuture<Void> whenDurable(long segmentId, int length) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        newWaiters.add(new Waiter(segmentId, length, future));
        wake();
        return future;
    }

    /**
     * Whether the bytes up to {@code length} of segment {@code segmentId}, and every earlier
     * segment of the log, are already buffered on all of their replicas: a cheap check for readers
     * (false when unsure; then {@link #whenDurable} gives the answer).
     */
    public boolean isDurable(long segmentId, int length) {
        return false; // filled in with the durability tracker
    }

    private void wake() {
        if (parked) {
            LockSupport.unpark(thread);
        }
    }

    public Stats stats() {
        return stats;
    }

    /** Where the log's replicas are now, answered by the sender thread at its next round. */
    public CompletableFuture<Placement> placement() {
        CompletableFuture<Placement> answer = new CompletableFuture<>();
        events.add(new Inspect(answer));
        wake();
        return answer;
    }

    /** This master's failure domain: replicas go to other domains first. */
    public ReplicaManager failureDomain(String domain) {
        this.selfFailureDomain = domain == null ? "" : domain;
        return this;
    }

    /** Replicas per segment (R). */
    public int factor() {
        return factor;
    }

    // ---- the sender thread ----

    private void run() {
        int idleRounds = 0;
        while (running) {
            int work;
            try {
                work = doWork();
            } catch (RuntimeException e) {
                LOG.error("replication round failed (continuing in 1 ms): {}", e.toString(), e);
                LockSupport.parkNanos(1_000_000); // a fault that repeats must not flood the log
                work = 1;
            }
            if (work > 0) {
                idleRounds = 0;
                continue;
            }
            idleRounds++;
            if (idleRounds < 50) {
                Thread.onSpinWait();
            } else if (idleRounds < 60) {
                Thread.yield();
            } else {
                parked = true;
                if (events.isEmpty() && newWaiters.isEmpty()) {
                    // Answers arrive on the subscription (not a wake-up): park briefly while any is due.
                    LockSupport.parkNanos(awaitingAny() ? AWAIT_PARK_NS : 1_000_000);
                }
                parked = false;
            }
        }
    }

    private boolean awaitingAny() {
        for (Tracked t : tracked.values()) {
            for (Replica r : t.replicas) {
                if (r.awaitingAnswer()) {
                    return true;
                }
            }
        }
        return false;
    }

    private int doWork() {
        int work = 0;
        for (int i = 0; i < replies.size(); i++) {
            work += replies.get(i).poll(assembler, 64);
        }
        Event event;
        while ((event = events.poll()) != null) {
            apply(event);
            work++;
        }
        Waiter waiter;
        while ((waiter = newWaiters.poll()) != null) {
            unplaced.add(waiter);
            waiterCount++;
            work++;
        }
        if (selfId.getAsLong() == 0) {
            return work; // not registered yet: backups would refuse an unknown master
        }
        long now = System.nanoTime();
        if (now - lastMembershipCheckNs > TimeUnit.MILLISECONDS.toNanos(20)) {
            lastMembershipCheckNs = now;
            replaceLostBackups();
        }
        Tracked previous = null;
        for (Tracked t : tracked.values()) {
            if (previous != null) {
                work += advance(previous, t, now);
            }
            previous = t;
        }
        if (previous != null) {
            work += advance(previous, null, now);
        }
        work += completeWaiters(now);
        work += releaseFrees();
        publishStats();
        return work;
    }

    private void apply(Event event) {
        switch (event) {
            case Opened o -> {
                highestSegmentId = Math.max(highestSegmentId, o.segmentId());
                if (!tracked.containsKey(o.segmentId())) {
                    tracked.put(o.segmentId(), new Tracked(o.segmentId(), log.segmentCapacityBytes()));
                }
            }
            case Synced s -> {
                Tracked t = tracked.get(s.segmentId());
                if (t != null && !t.closed && s.length() > t.certifiedLength) {
                    t.certifiedLength = s.length();
                    t.certifiedChecksum = s.checksum();
                }
            }
            case Closed c -> {
                Tracked t = tracked.get(c.segmentId());
                if (t != null) {
                    t.certifiedLength = c.certificate().lengthBytes();
                    t.certifiedChecksum = c.certificate().checksum();
                    t.closed = true;
                }
            }
            case Inspect i -> {
                boolean full = true;
                Set<Long> backups = new java.util.TreeSet<>();
                Map<Long, Set<Long>> bySegment = new HashMap<>();
                for (Tracked t : tracked.values()) {
                    full &= t.closed ? t.complete(factor) : t.openOnAll(factor);
                    Set<Long> holders = new HashSet<>();
                    t.replicas.forEach(r -> holders.add(r.backup.serverId()));
                    backups.addAll(holders);
                    bySegment.put(t.segmentId, Set.copyOf(holders));
                }
                for (Tracked t : pendingFrees) {
                    Set<Long> holders = new HashSet<>();
                    t.replicas.forEach(r -> holders.add(r.backup.serverId()));
                    bySegment.put(t.segmentId, Set.copyOf(holders));
                }
                i.answer().complete(new Placement(full, Set.copyOf(backups), Map.copyOf(bySegment),
                        highestSegmentId));
            }
            case Freed f -> {
                Tracked t = tracked.remove(f.segmentId());
                complete.remove(f.segmentId());
                if (t != null) {
                    // (A freed segment was complete, as the cleaner takes only replicated ones: its
                    // waiters complete at once in completeWaiters.)
                    unplaced.addAll(t.waiters);
                    t.waiters.clear();
                    // Not yet: the cleaner's survivors, which now hold its live data, must be on
                    // their backups first (see releaseFrees).
                    pendingFrees.add(t);
                }
            }
        }
    }

    /**
     * Frees on the backups the replicas of segments the cleaner freed, once every closed
     * segment still in the log (the survivors that took their live data among them) is complete
     * on all of its replicas: until then a crash must still find the data in the old replicas.
     */
    private int releaseFrees() {
        if (pendingFrees.isEmpty()) {
            return 0;
        }
        for (Tracked t : tracked.values()) {
            if (t.closed && !t.done && !t.complete(factor)) {
                return 0;
            }
        }
        int freed = 0;
        for (Tracked t : pendingFrees) {
            for (Replica r : t.replicas) {
                sendFree(r, t);
                load.merge(r.backup.serverId(), -1, Integer::sum);
                freed++;
            }
        }
        pendingFrees.clear();
        return freed;
    }

    /**
     * Places missing replicas and sends what each replica lacks; returns messages sent. A
     * segment is closed on its backups only once the segment after it in the log is open on all
     * of its own (DESIGN §4: the new head is durably open before the old one closes), so the
     * backups never hold a closed end of the log without its successor.
     */
    private int advance(Tracked t, Tracked next, long now) {
        if (t.done) {
            return 0;
        }
        boolean successorOpen = next == null || next.openOnAll(factor);
        int work = 0;
        while (t.replicas.size() < factor) {
            Backup target = choose(t);
            if (target == null && !t.excluded.isEmpty()) {
                t.excluded.clear(); // every other backup failed too: try the excluded ones again
                target = choose(t);
            }
            if (target == null) {
                break; // no backup available: writes wait; placement retries each round
            }
            t.replicas.add(new Replica(target, t.nextEpoch++));
            load.merge(target.serverId(), 1, Integer::sum);
            work++;
        }
        for (Replica r : t.replicas) {
            if (r.awaitingAnswer()) {
                if (now - r.oldestOutstandingNs() > ackTimeoutNs) {
                    r.timeouts++;
                    // Resend from what was acknowledged (an answer may have been lost).
                    if (!r.openAcked) {
                        r.openSent = false;
                    }
                    r.resendFromAcknowledged();
                } else if (r.openSent && !r.openAcked || r.closeSent
                        || r.inFlight.size() >= MAX_APPENDS_IN_FLIGHT) {
                    continue;
                }
            }
            if (!r.openSent) {
                if (now < r.retryAfterNs) {
                    continue;
                }
                if (sendOpen(r, t)) {
                    work++;
                }
                continue;
            }
            if (!r.openAcked) {
                continue;
            }
            if (r.sentLength < t.certifiedLength) {
                if (sendAppend(r, t)) {
                    work++;
                }
            } else if (t.closed && !r.closeSent && r.ackedLength >= t.certifiedLength && successorOpen) {
                if (sendClose(r, t)) {
                    work++;
                }
            }
        }
        if (t.complete(factor)) {
            complete.putIfAbsent(t.segmentId, Boolean.TRUE);
            t.done = true;
        }
        return work;
    }

    private Backup choose(Tracked t) {
        Set<Long> taken = new HashSet<>();
        Set<String> domains = new HashSet<>();
        if (!selfFailureDomain.isEmpty()) {
            domains.add(selfFailureDomain); // a rack that loses the master should not take its copies too
        }
        for (Replica r : t.replicas) {
            taken.add(r.backup.serverId());
            if (!r.backup.failureDomain().isEmpty()) {
                domains.add(r.backup.failureDomain());
            }
        }
        long self = selfId.getAsLong();
        Backup best = null;
        int bestScore = Integer.MAX_VALUE;
        for (Backup b : liveBackups.get()) {
            if (b.serverId() == self || taken.contains(b.serverId()) || t.excluded.contains(b.serverId())) {
                continue;
            }
            // Distinct failure domains first, then the least loaded backup.
            int score = (domains.contains(b.failureDomain()) ? 1_000_000 : 0) + load.getOrDefault(b.serverId(), 0);
            if (score < bestScore) {
                best = b;
                bestScore = score;
            }
        }
        return best;
    }

    /** Replaces replicas on backups that left the live set or stopped answering. */
    private void replaceLostBackups() {
        Set<Long> live = new HashSet<>();
        for (Backup b : liveBackups.get()) {
            live.add(b.serverId());
        }
        for (Tracked t : tracked.values()) {
            Iterator<Replica> it = t.replicas.iterator();
            while (it.hasNext()) {
                Replica r = it.next();
                boolean gone = !live.contains(r.backup.serverId());
                boolean silent = r.timeouts >= 2;
                if (gone || silent) {
                    LOG.warn("segment {}: replica on backup {} {}; re-replicating it elsewhere", t.segmentId,
                            r.backup.serverId(), gone ? "left the cluster" : "stopped answering");
                    it.remove();
                    t.excluded.add(r.backup.serverId());
                    load.merge(r.backup.serverId(), -1, Integer::sum);
                    replicasReplaced++;
                    complete.remove(t.segmentId);
                    t.done = false;
                }
            }
        }
    }

    // ---- sending ----

    private ExclusivePublication publication(Backup backup) {
        return publications.computeIfAbsent(backup.serverId(),
                id -> aeron.addExclusivePublication(backup.endpoint().channel(), backup.endpoint().streamId()));
    }

    private boolean offer(Replica r, int length) {
        ExclusivePublication publication = publication(r.backup);
        long result = publication.offer(sendBuffer, 0, length);
        if (result > 0) {
            messagesSent++;
            r.lastSendNs = System.nanoTime();
            return true;
        }
        if (result == Publication.BACK_PRESSURED || result == Publication.ADMIN_ACTION) {
            backPressured++;
        } else if (result == Publication.NOT_CONNECTED) {
            // Not connected yet (or the backup is gone): count toward replacing it.
            if (r.lastSendNs == 0) {
                r.lastSendNs = System.nanoTime();
            } else if (System.nanoTime() - r.lastSendNs > ackTimeoutNs) {
                r.timeouts++;
                r.lastSendNs = System.nanoTime();
            }
        }
        return false;
    }

    private boolean sendOpen(Replica r, Tracked t) {
        ReplicationStreams.Endpoint reply = r.backup.endpoint().ipc() && ipcReply != null ? ipcReply : udpReply;
        open.wrapAndApplyHeader(sendBuffer, 0, header)
                .masterId(selfId.getAsLong())
                .segmentId(t.segmentId)
                .epoch(r.epoch)
                .capacityBytes(t.capacity)
                .correlationId(correlation.incrementAndGet())
                .replyStreamId(reply.streamId())
                .replyChannel(reply.channel());
        if (offer(r, MessageHeaderEncoder.ENCODED_LENGTH + open.encodedLength())) {
            r.openSent = true;
            replicasOpened++;
            return true;
        }
        return false;
    }

    private boolean sendAppend(Replica r, Tracked t) {
        int from = r.sentLength;
        int to = Math.min(t.certifiedLength, from + maxChunkBytes);
        boolean last = to == t.certifiedLength;
        if (!copy(t.segmentId, from, to - from)) {
            return false; // the segment left the log; its Freed event follows
        }
        append.wrapAndApplyHeader(sendBuffer, 0, header)
                .masterId(selfId.getAsLong())
                .segmentId(t.segmentId)
                .epoch(r.epoch)
                .replicaOffset(from)
                .certificateLength(last ? t.certifiedLength : 0)
                .certificateChecksum(last ? t.certifiedChecksum : 0)
                .correlationId(correlation.incrementAndGet())
                .putBytes(chunk, 0, to - from);
        if (offer(r, MessageHeaderEncoder.ENCODED_LENGTH + append.encodedLength())) {
            r.sentLength = to;
            r.inFlight.addLast(new long[] {to, System.nanoTime()});
            bytesSent += to - from;
            return true;
        }
        return false;
    }

    /** Copies log bytes of a segment into {@link #chunk}, guarded by an epoch against the cleaner freeing it. */
    private boolean copy(long segmentId, int from, int length) {
        int token = epochs.enter();
        try {
            LogSegment segment = log.segment(segmentId);
            if (segment == null) {
                return false;
            }
            segment.memory().copyTo(from, chunk, 0, length);
            return true;
        } finally {
            epochs.exit(token);
        }
    }

    private boolean sendClose(Replica r, Tracked t) {
        close.wrapAndApplyHeader(sendBuffer, 0, header)
                .masterId(selfId.getAsLong())
                .segmentId(t.segmentId)
                .epoch(r.epoch)
                .certificateLength(t.certifiedLength)
                .certificateChecksum(t.certifiedChecksum)
                .correlationId(correlation.incrementAndGet());
        if (offer(r, MessageHeaderEncoder.ENCODED_LENGTH + close.encodedLength())) {
            r.closeSent = true;
            return true;
        }
        return false;
    }

    private void sendFree(Replica r, Tracked t) {
        free.wrapAndApplyHeader(sendBuffer, 0, header)
                .masterId(selfId.getAsLong())
                .segmentId(t.segmentId)
                .correlationId(correlation.incrementAndGet());
        // Best effort: a backup that misses a free keeps a replica its master no longer lists.
        offer(r, MessageHeaderEncoder.ENCODED_LENGTH + free.encodedLength());
    }

    // ---- answers ----

    private void onReply(DirectBuffer buffer, int offset, int length, Header aeronHeader) {
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
                    r.acknowledged((int) ack.bufferedLength());
                    if (ack.closed() == BooleanType.TRUE) {
                        r.closeAcked = true;
                    }
                }
            }
            case ReplicaRejectDecoder.TEMPLATE_ID -> {
                reject.wrap(buffer, body, replyHeader.blockLength(), replyHeader.version());
                onReject(reject.segmentId(), reject.backupId(), reject.epoch(), reject.reason(),
                        (int) reject.bufferedLength());
            }
            default -> {
            }
        }
    }

    private Replica find(long segmentId, long backupId, long epoch) {
        Tracked t = tracked.get(segmentId);
        if (t == null) {
            return null;
        }
        for (Replica r : t.replicas) {
            if (r.backup.serverId() == backupId && r.epoch == epoch) {
                return r;
            }
        }
        return null;
    }

    private void onReject(long segmentId, long backupId, long epoch, RejectReason reason, int bufferedLength) {
        Tracked t = tracked.get(segmentId);
        Replica r = find(segmentId, backupId, epoch);
        if (t == null || r == null) {
            return;
        }
        if (reason == RejectReason.OUT_OF_ORDER && r.openAcked) {
            r.ackedLength = bufferedLength;
            r.resendFromAcknowledged();
            return;
        }
        if (reason == RejectReason.NOT_IN_CLUSTER && r.timeouts < 2) {
            // The backup may not have seen this master's registration yet: open again shortly.
            r.openSent = false;
            r.openAcked = false;
            r.sentLength = 0;
            r.ackedLength = 0;
            r.inFlight.clear();
            r.timeouts++;
            r.retryAfterNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
            return;
        }
        LOG.warn("segment {}: backup {} refused its replica ({}); placing it elsewhere", segmentId, backupId, reason);
        t.replicas.remove(r);
        t.excluded.add(backupId);
        load.merge(backupId, -1, Integer::sum);
        replicasReplaced++;
        complete.remove(segmentId);
        t.done = false;
    }

    // ---- durability ----

    /**
     * Completes the waiters whose bytes are durable. Each tracked segment keeps its waiters
     * ordered by length, so a round costs a look at each segment's shortest waiter plus the
     * waiters it completes, however many wait.
     */
    private int completeWaiters(long now) {
        if (waiterCount == 0) {
            if (stallSinceNs != 0) {
                stallNs += now - stallSinceNs;
                stallSinceNs = 0;
            }
            return 0;
        }
        int done = 0;
        if (!unplaced.isEmpty()) {
            Iterator<Waiter> it = unplaced.iterator();
            while (it.hasNext()) {
                Waiter w = it.next();
                Tracked t = tracked.get(w.segmentId());
                if (t != null) {
                    t.waiters.add(w);
                    it.remove();
                } else if (!log.containsSegment(w.segmentId())) {
                    // The cleaner freed the segment: its live data is in survivors replicated before the free.
                    it.remove();
                    complete(w);
                    done++;
                }
                // else: its Opened event is still queued; placed next round
            }
        }
        // Every segment before the first incomplete one is complete; walk the log order once.
        boolean stalled = false;
        boolean earlierComplete = true;
        for (Tracked t : tracked.values()) {
            if (earlierComplete && !t.waiters.isEmpty()) {
                int durable = t.durableLength(factor);
                while (!t.waiters.isEmpty() && t.waiters.peek().length() <= durable) {
                    complete(t.waiters.poll());
                    done++;
                }
            }
            earlierComplete &= t.done || t.complete(factor);
            stalled |= t.replicas.size() < factor;
        }
        if (stalled && waiterCount > 0) {
            if (stallSinceNs == 0) {
                stallSinceNs = now;
            }
        } else if (stallSinceNs != 0) {
            stallNs += now - stallSinceNs;
            stallSinceNs = 0;
        }
        return done;
    }

    private void complete(Waiter w) {
        waiterCount--;
        w.future().complete(null);
    }

    private void publishStats() {
        stats = new Stats(replicasOpened, bytesSent, messagesSent, backPressured, replicasReplaced,
                stallNs + (stallSinceNs != 0 ? System.nanoTime() - stallSinceNs : 0), tracked.size(), waiterCount);
    }

    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<Waiter> left = new ArrayList<>(unplaced);
        for (Tracked t : tracked.values()) {
            left.addAll(t.waiters);
        }
        for (Tracked t : pendingFrees) {
            left.addAll(t.waiters);
        }
        for (Waiter w : left) {
            w.future().completeExceptionally(new IllegalStateException("replication stopped"));
        }
        Event event;
        while ((event = events.poll()) != null) {
            if (event instanceof Inspect i) {
                i.answer().completeExceptionally(new IllegalStateException("replication stopped"));
            }
        }
        Waiter w;
        while ((w = newWaiters.poll()) != null) {
            w.future().completeExceptionally(new IllegalStateException("replication stopped"));
        }
        publications.values().forEach(ExclusivePublication::close);
        replies.forEach(Subscription::close);
    }
}
