package io.ferrite.backup;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.Header;
import io.ferrite.proto.ReplicationStreams;
import io.ferrite.proto.replication.AppendReplicaDecoder;
import io.ferrite.proto.replication.BooleanType;
import io.ferrite.proto.replication.CloseReplicaDecoder;
import io.ferrite.proto.replication.FreeReplicaDecoder;
import io.ferrite.proto.replication.MessageHeaderDecoder;
import io.ferrite.proto.replication.MessageHeaderEncoder;
import io.ferrite.proto.replication.OpenReplicaDecoder;
import io.ferrite.proto.replication.RejectReason;
import io.ferrite.proto.replication.ReplicaAckEncoder;
import io.ferrite.proto.replication.ReplicaRejectEncoder;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;
import java.util.function.LongSupplier;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backup's end of replication, an Agrona {@link Agent}: Aeron subscriptions that masters
 * publish to (a UDP channel for every master, and an IPC stream for masters that share this
 * server's media driver), decoded with the SBE codecs of {@code replication.xml}, applied to the
 * {@link ReplicaStore}, and answered with an acknowledgement or a rejection on the reply
 * endpoint that the master named when it opened the replica. One {@link AgentRunner} thread runs
 * {@link #doWork()} (with a backing-off idle strategy, so an idle backup costs next to no CPU);
 * a test may instead call {@code doWork()} itself with a hand-moved clock.
 *
 * <p>Each duty cycle reads the injected clock once and, besides polling, drives the store's
 * timers (allocation and flush retries, {@link ReplicaStore#onDutyCycle}) and the
 * <b>reconciliation</b> with masters: every {@code reconcileIntervalNs} it asks each UP master
 * of which it holds replicas which ones it still keeps here ({@link MasterDirectory}, answered
 * off this thread), and applies each answer with {@link ReplicaStore#reconcile}, so a FREE lost
 * on the way, or a replica its master replaced, does not stay for good.
 *
 * <p><b>Admission, per message.</b> Every open, append, close and free is checked against
 * {@code masterAllowed} (in the server: the master's record is UP in this server's own cached
 * view of ZooKeeper, which ZooKeeper watches refresh; no coordinator is involved) and against
 * the masters this backup was told to {@link #fence} (recovery does so before it lists a crashed
 * master's replicas, so nothing the backup accepted after the listing can be missing from it).
 * A master that fails the check (declared CRASHED, removed, replaced, unknown, or fenced) gets
 * {@link RejectReason#NOT_IN_CLUSTER} for opens, appends and closes, and its frees are dropped
 * (counted in {@link #refusedFrees()}): a crashed master's replicas are kept until its recovery
 * is done. Reconciliation never asks, nor applies the answer of, such a master either.
 */
public final class BackupService implements Agent, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackupService.class);
    /** How long an answer may wait for a back-pressured or not yet connected reply channel. */
    private static final long REPLY_TIMEOUT_NS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final int MAX_REPLY_CHANNELS = 1024;
    /** How often the store's timers (allocation and flush retries) are looked at. */
    private static final long HOUSEKEEPING_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);
    /** A question to a master not answered in this long is asked again at the next round. */
    private static final long QUESTION_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(30);
    /** The default interval of reconciliation with masters. */
    public static final long DEFAULT_RECONCILE_INTERVAL_MS = 3_000;

    /**
     * Asks a master which replicas it keeps where (the server asks its {@code ServerStats}).
     * Called on the agent's thread; must not block it.
     */
    @FunctionalInterface
    public interface MasterDirectory {
        /** Never asks anyone. */
        MasterDirectory NONE = masterId -> CompletableFuture.completedFuture(Optional.empty());

        /**
         * @return the master's answer; empty if the master is not UP or another server answers at
         *         its address (its replicas are then kept); failed if it could not be asked
         */
        CompletableFuture<Optional<ReplicaStore.MasterReplicas>> ask(long masterId);

        /**
         * Whether a master that is not UP has been recovered for good: its record REMOVED and no
         * recovery of it under way, so no one will read its replicas again (they are dropped: the
         * coordinator frees them on the backups that are up when its recovery ends, this covers
         * the ones that were not). Called on the agent's thread; must not block it.
         */
        default CompletableFuture<Boolean> recovered(long masterId) {
            return CompletableFuture.completedFuture(false);
        }
    }

    /** An answer (or failure) of a master, handed from the asking thread to the agent. */
    private record Answered(long masterId, long openedBefore, Optional<ReplicaStore.MasterReplicas> answer,
                            Throwable failure, boolean recovered) {
    }

    private final Aeron aeron;
    private final List<Subscription> subscriptions = new ArrayList<>();
    /** Fragments received per subscription, in the order of the endpoints given. */
    private final java.util.concurrent.atomic.AtomicLongArray received;
    private final List<ReplicationStreams.Endpoint> endpoints;
    private final ReplicaStore store;
    private final LongSupplier backupId;
    private final LongPredicate masterAllowed;
    /** Masters refused whatever the cluster view says (see {@link #fence}). */
    private final java.util.Set<Long> fenced = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final AtomicLong refusedFrees = new AtomicLong();
    private final MasterDirectory masters;
    private final long reconcileIntervalNs;
    private final NanoClock clock;
    private final Queue<Answered> answers = new ConcurrentLinkedQueue<>();
    /** Masters asked and not yet answered, with when they were asked; touched by the agent only. */
    private final Map<Long, Long> askedAtNs = new HashMap<>();
    /** Masters a question could not reach (warned about once each); touched by the agent only. */
    private final java.util.Set<Long> unreachable = new java.util.HashSet<>();
    /** Kinds of faults met while handling a message (logged once each). */
    private final java.util.Set<String> faultsLogged = new java.util.HashSet<>();
    private long nextHousekeepingNs;
    private long nextReconcileNs;
    private AgentRunner runner;
    /**
     * Spins, yields, then parks up to 200 µs. Measured at R=2 over IPC, three interleaved runs
     * each: 200 µs gave 73–76 k writes/s at 64 in flight, 50 µs 68–71 k (more wake-ups of idle
     * backups on two cores); latency at 1 in flight was the same. After 50 ms without a message
     * it parks 1 ms at a time ({@link DeepeningIdleStrategy}).
     */
    private final IdleStrategy idle = DeepeningIdleStrategy.backoff(200);
    private final io.aeron.FragmentAssembler assembler;
    /** How the receiving thread waits for a back-pressured or not yet connected reply channel. */
    private final IdleStrategy replyWait = new BackoffIdleStrategy(10, 10, 1_000, 100_000);
    /** Reply publications by master id (the endpoint comes with the master's opens). */
    private final Map<Long, ExclusivePublication> replies = new HashMap<>();
    private final Map<Long, ReplicationStreams.Endpoint> replyEndpoints = new HashMap<>();
    private final MessageHeaderDecoder header = new MessageHeaderDecoder();
    private final OpenReplicaDecoder open = new OpenReplicaDecoder();
    private final AppendReplicaDecoder append = new AppendReplicaDecoder();
    private final CloseReplicaDecoder close = new CloseReplicaDecoder();
    private final FreeReplicaDecoder free = new FreeReplicaDecoder();
    private final UnsafeBuffer out = new UnsafeBuffer(new byte[256]);
    private final MessageHeaderEncoder outHeader = new MessageHeaderEncoder();
    private final ReplicaAckEncoder ack = new ReplicaAckEncoder();
    private final ReplicaRejectEncoder reject = new ReplicaRejectEncoder();
    private byte[] scratch = new byte[64 << 10];
    private final AtomicLong messages = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong bytesReceived = new AtomicLong();
    private final AtomicLong faults = new AtomicLong();
    private final AtomicLong reconciliations = new AtomicLong();
    private final AtomicLong recoveredMastersFreed = new AtomicLong();
    private volatile boolean running = true;
    private volatile boolean withholding;
    private volatile boolean droppingFrees;

    /**
     * Subscribes and starts polling on a thread of its own, without reconciliation.
     *
     * @param aeron         a connected Aeron client
     * @param endpoints     where masters publish to, e.g. {@code aeron:udp?endpoint=127.0.0.1:40123}
     *                      stream {@link ReplicationStreams#REQUESTS} (at least one)
     * @param store         where replicas go
     * @param backupId      this server's id (read per answer: it is known only once registered)
     * @param masterAllowed whether a master id is live in the cluster
     */
    public BackupService(Aeron aeron, List<ReplicationStreams.Endpoint> endpoints, ReplicaStore store,
                         LongSupplier backupId, LongPredicate masterAllowed) {
        this(aeron, endpoints, store, backupId, masterAllowed, MasterDirectory.NONE, 0, new SystemNanoClock());
        start(Thread.ofPlatform().daemon().factory());
    }

    /**
     * Subscribes; nothing runs until {@link #start} (or a test calls {@link #doWork()}).
     *
     * @param masters             how to ask a master which replicas it keeps here
     * @param reconcileIntervalNs how often to ask (0: never)
     * @param clock               read once per duty cycle
     */
    public BackupService(Aeron aeron, List<ReplicationStreams.Endpoint> endpoints, ReplicaStore store,
                         LongSupplier backupId, LongPredicate masterAllowed, MasterDirectory masters,
                         long reconcileIntervalNs, NanoClock clock) {
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("a backup service needs at least one endpoint");
        }
        if (reconcileIntervalNs < 0) {
            throw new IllegalArgumentException("reconcile interval must not be negative, got " + reconcileIntervalNs);
        }
        this.aeron = aeron;
        this.store = store;
        this.backupId = backupId;
        this.masterAllowed = masterAllowed;
        this.masters = masters;
        this.reconcileIntervalNs = reconcileIntervalNs;
        this.clock = clock;
        this.endpoints = List.copyOf(endpoints);
        this.received = new java.util.concurrent.atomic.AtomicLongArray(endpoints.size());
        for (ReplicationStreams.Endpoint endpoint : endpoints) {
            subscriptions.add(aeron.addSubscription(endpoint.channel(), endpoint.streamId()));
        }
        this.assembler = new io.aeron.FragmentAssembler(this::onMessage);
        long nowNs = clock.nanoTime();
        this.nextHousekeepingNs = nowNs;
        this.nextReconcileNs = nowNs + reconcileIntervalNs;
    }

    /** Runs the duty cycle on a thread of {@code threads} (e.g. one that lowers timer slack). */
    public BackupService start(java.util.concurrent.ThreadFactory threads) {
        if (runner != null) {
            throw new IllegalStateException("already started");
        }
        runner = new AgentRunner(idle, e -> LOG.error("backup agent: unexpected failure (the agent goes on)", e),
                null, this);
        AgentRunner.startOnThread(runner, threads);
        return this;
    }

    @Override
    public String roleName() {
        return "ferrite-backup-rx";
    }

    /**
     * One duty cycle: reads the clock once, polls every subscription, moves the store's timers
     * on, applies masters' answers and asks them again when the interval is up.
     */
    @Override
    public int doWork() {
        long nowNs = clock.nanoTime();
        int work = poll();
        try {
            if (nowNs - nextHousekeepingNs >= 0) {
                nextHousekeepingNs = nowNs + HOUSEKEEPING_INTERVAL_NS;
                store.onDutyCycle(nowNs);
            }
            work += applyAnswers();
            if (reconcileIntervalNs > 0 && nowNs - nextReconcileNs >= 0) {
                nextReconcileNs = nowNs + reconcileIntervalNs;
                work += askMasters(nowNs);
            }
        } catch (RuntimeException e) {
            // Counted and logged once per kind; the timers moved on, so it does not repeat every cycle.
            fault("running the store's timers or reconciliation", e);
        }
        return work;
    }

    private int poll() {
        int work = 0;
        for (int i = 0; i < subscriptions.size(); i++) {
            int fragments;
            try {
                fragments = subscriptions.get(i).poll(assembler, 16);
            } catch (RuntimeException e) {
                fault("handling a replication message (skipped)", e);
                fragments = 1;
            }
            if (fragments > 0) {
                received.addAndGet(i, fragments);
                work += fragments;
            }
        }
        return work;
    }

    /** Counts a fault of the agent's work; logs the first of each kind. */
    private void fault(String what, RuntimeException e) {
        faults.incrementAndGet();
        if (faultsLogged.add(what + "/" + e.getClass().getName())) {
            LOG.error("backup: fault while {}: {} (further ones of this kind are counted, not logged)", what,
                    e.toString(), e);
        }
    }

    /**
     * Asks every UP master of which the store holds replicas (and no question is pending) which
     * ones it keeps here; answers arrive on another thread and are applied by a later cycle.
     */
    private int askMasters(long nowNs) {
        long self = backupId.getAsLong();
        if (self == 0) {
            return 0; // not registered yet: an answer could not be matched to this server
        }
        askedAtNs.values().removeIf(at -> nowNs - at > QUESTION_TIMEOUT_NS);
        int asked = 0;
        for (long masterId : store.masters()) {
            if (askedAtNs.containsKey(masterId)) {
                continue;
            }
            long openedBefore = store.openSequence();
            askedAtNs.put(masterId, nowNs);
            if (!allowed(masterId)) {
                // Not UP: kept for recovery, unless its recovery is over.
                CompletableFuture<Boolean> done;
                try {
                    done = masters.recovered(masterId);
                } catch (RuntimeException e) {
                    done = CompletableFuture.failedFuture(e);
                }
                done.whenComplete((recovered, failure) -> answers.add(new Answered(masterId, openedBefore,
                        Optional.empty(), failure, Boolean.TRUE.equals(recovered))));
                asked++;
                continue;
            }
            CompletableFuture<Optional<ReplicaStore.MasterReplicas>> question;
            try {
                question = masters.ask(masterId);
            } catch (RuntimeException e) {
                question = CompletableFuture.failedFuture(e);
            }
            question.whenComplete((answer, failure) -> answers.add(new Answered(masterId, openedBefore,
                    answer == null ? Optional.empty() : answer, failure, false)));
            asked++;
        }
        return asked;
    }

    private int applyAnswers() {
        int applied = 0;
        Answered a;
        while ((a = answers.poll()) != null) {
            applied++;
            askedAtNs.remove(a.masterId());
            if (a.failure() != null) {
                if (unreachable.add(a.masterId())) {
                    LOG.warn("backup: could not ask master {} about its replicas (asking again every {} ms): {}",
                            a.masterId(), TimeUnit.NANOSECONDS.toMillis(reconcileIntervalNs), a.failure().toString());
                }
                continue;
            }
            unreachable.remove(a.masterId());
            if (a.recovered()) {
                int freed = store.freeMaster(a.masterId());
                recoveredMastersFreed.addAndGet(freed);
                if (freed > 0) {
                    LOG.info("backup: dropped {} replica(s) of master {}: its crash recovery is over (this backup"
                            + " was not up to be told)", freed, Long.toHexString(a.masterId()));
                }
                continue;
            }
            if (a.answer().isEmpty() || !allowed(a.masterId())) {
                continue; // declared CRASHED since it answered: its replicas are kept for recovery
            }
            int dropped = store.reconcile(a.answer().get(), backupId.getAsLong(), a.openedBefore());
            reconciliations.incrementAndGet();
            if (dropped > 0) {
                LOG.info("backup: dropped {} replica(s) of master {} that it no longer keeps here", dropped,
                        a.masterId());
            }
        }
        return applied;
    }

    private void onMessage(DirectBuffer buffer, int offset, int length, Header aeronHeader) {
        if (length < MessageHeaderDecoder.ENCODED_LENGTH) {
            LOG.warn("dropped a replication message of {} bytes (shorter than a header)", length);
            return;
        }
        header.wrap(buffer, offset);
        if (header.schemaId() != OpenReplicaDecoder.SCHEMA_ID) {
            LOG.warn("dropped a message of schema {} (not replication)", header.schemaId());
            return;
        }
        messages.incrementAndGet();
        if (withholding) {
            return;
        }
        int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        int blockLength = header.blockLength();
        int version = header.version();
        int end = offset + length;
        if (body + blockLength > end) {
            LOG.warn("dropped a replication message of {} bytes: its header claims a {}-byte block", length,
                    blockLength);
            return;
        }
        switch (header.templateId()) {
            case OpenReplicaDecoder.TEMPLATE_ID -> {
                if (varDataFits(buffer, body + blockLength, end)) {
                    onOpen(buffer, body, blockLength, version);
                }
            }
            case AppendReplicaDecoder.TEMPLATE_ID -> {
                if (varDataFits(buffer, body + blockLength, end)) {
                    onAppend(buffer, body, blockLength, version);
                }
            }
            case CloseReplicaDecoder.TEMPLATE_ID -> onClose(buffer, body, blockLength, version);
            case FreeReplicaDecoder.TEMPLATE_ID -> onFree(buffer, body, blockLength, version);
            default -> LOG.warn("dropped a replication message of unknown template {}", header.templateId());
        }
    }

    /** Whether the length-prefixed bytes at {@code at} lie within the message (else it is dropped). */
    private static boolean varDataFits(DirectBuffer buffer, int at, int end) {
        if (at + 4 > end) {
            LOG.warn("dropped a replication message cut short before its variable-length field");
            return false;
        }
        long count = buffer.getInt(at, java.nio.ByteOrder.LITTLE_ENDIAN) & 0xFFFF_FFFFL;
        if (at + 4 + count > end) {
            LOG.warn("dropped a replication message whose {}-byte field runs past its {} bytes", count, end - at);
            return false;
        }
        return true;
    }

    private void onOpen(DirectBuffer buffer, int body, int blockLength, int version) {
        open.wrap(buffer, body, blockLength, version);
        long masterId = open.masterId();
        long segmentId = open.segmentId();
        long epoch = open.epoch();
        int capacity = (int) open.capacityBytes();
        long correlation = open.correlationId();
        int replyStream = open.replyStreamId();
        String channel = open.replyChannel();
        ReplicationStreams.Endpoint reply;
        try {
            reply = new ReplicationStreams.Endpoint(channel, replyStream);
        } catch (IllegalArgumentException e) {
            LOG.warn("dropped an open from master {}: {}", masterId, e.getMessage());
            return;
        }
        if (!reply.equals(replyEndpoints.get(masterId))) {
            ExclusivePublication previous = replies.remove(masterId);
            if (previous != null) {
                previous.close();
            }
            if (replies.size() >= MAX_REPLY_CHANNELS) {
                LOG.warn("too many masters; not answering {}", masterId);
                return;
            }
            try {
                replies.put(masterId, aeron.addExclusivePublication(reply.channel(), reply.streamId()));
                replyEndpoints.put(masterId, reply);
            } catch (RuntimeException e) { // a malformed channel: Aeron refuses it
                replyEndpoints.remove(masterId);
                LOG.warn("dropped an open from master {}: cannot answer on {} stream {}: {}", masterId,
                        reply.channel(), reply.streamId(), e.getMessage());
                return;
            }
        }
        if (!allowed(masterId)) {
            sendReject(masterId, segmentId, epoch, RejectReason.NOT_IN_CLUSTER, 0, correlation);
            return;
        }
        answer(masterId, segmentId, epoch, store.open(masterId, segmentId, epoch, capacity), correlation);
    }

    private void onAppend(DirectBuffer buffer, int body, int blockLength, int version) {
        append.wrap(buffer, body, blockLength, version);
        long masterId = append.masterId();
        long segmentId = append.segmentId();
        long epoch = append.epoch();
        int replicaOffset = (int) append.replicaOffset();
        int certificateLength = (int) append.certificateLength();
        int certificateChecksum = (int) append.certificateChecksum();
        long correlation = append.correlationId();
        int count = append.bytesLength();
        if (!allowed(masterId)) {
            append.skipBytes();
            sendReject(masterId, segmentId, epoch, RejectReason.NOT_IN_CLUSTER, 0, correlation);
            return;
        }
        if (scratch.length < count) {
            scratch = new byte[Math.max(count, scratch.length * 2)];
        }
        append.getBytes(scratch, 0, count);
        bytesReceived.addAndGet(count);
        ReplicaStore.Result result = store.append(masterId, segmentId, epoch, replicaOffset,
                MemorySegment.ofArray(scratch).asSlice(0, count), certificateLength, certificateChecksum);
        answer(masterId, segmentId, epoch, result, correlation);
    }

    private void onClose(DirectBuffer buffer, int body, int blockLength, int version) {
        close.wrap(buffer, body, blockLength, version);
        long masterId = close.masterId();
        if (!allowed(masterId)) {
            sendReject(masterId, close.segmentId(), close.epoch(), RejectReason.NOT_IN_CLUSTER, 0,
                    close.correlationId());
            return;
        }
        answer(masterId, close.segmentId(), close.epoch(), store.close(masterId, close.segmentId(), close.epoch(),
                (int) close.certificateLength(), (int) close.certificateChecksum()), close.correlationId());
    }

    private void onFree(DirectBuffer buffer, int body, int blockLength, int version) {
        free.wrap(buffer, body, blockLength, version);
        if (droppingFrees) {
            return;
        }
        long masterId = free.masterId();
        if (!allowed(masterId)) {
            // A crashed master's replicas stay until its recovery is done (frees have no answer).
            if (refusedFrees.getAndIncrement() == 0) {
                LOG.warn("backup: refused a free of segment {} from master {}, which the cluster does not list as UP"
                        + " (further ones are counted)", free.segmentId(), masterId);
            }
            return;
        }
        store.free(masterId, free.segmentId());
    }

    /** Whether a message of this master may be applied: listed UP in the cluster and not fenced here. */
    private boolean allowed(long masterId) {
        return masterAllowed.test(masterId) && (fenced.isEmpty() || !fenced.contains(masterId));
    }

    /**
     * Refuses every later message of {@code masterId} (opens, appends and closes get
     * NOT_IN_CLUSTER, frees are dropped), whatever the cluster view says, for the life of this
     * process. Recovery calls this before it lists or reads a crashed master's replicas here, so
     * that the replicas cannot grow, or shrink, behind its back (this backup's cached view may not
     * show the master CRASHED yet). Thread-safe; takes effect for the next message.
     */
    public void fence(long masterId) {
        if (fenced.add(masterId)) {
            LOG.info("backup: refusing every message of master {} from now on", masterId);
        }
    }

    /** Frees refused because their master was not UP (or fenced). */
    public long refusedFrees() {
        return refusedFrees.get();
    }

    private void answer(long masterId, long segmentId, long epoch, ReplicaStore.Result result, long correlation) {
        if (result.ok()) {
            sendAck(masterId, segmentId, epoch, result.lengthBytes(), result.certifiedBytes(), result.closed(),
                    correlation);
            return;
        }
        RejectReason reason = switch (result.outcome()) {
            case NO_BUFFER_FREE -> RejectReason.NO_BUFFER_FREE;
            case STALE_EPOCH -> RejectReason.STALE_EPOCH;
            case TOO_LARGE -> RejectReason.TOO_LARGE;
            case IO_ERROR -> RejectReason.IO_ERROR;
            case NO_SPACE -> RejectReason.NO_SPACE;
            case UNKNOWN_REPLICA -> RejectReason.UNKNOWN_REPLICA;
            default -> RejectReason.OUT_OF_ORDER;
        };
        sendReject(masterId, segmentId, epoch, reason, result.lengthBytes(), correlation);
    }

    private void sendAck(long masterId, long segmentId, long epoch, int length, int certified, boolean closed,
                         long correlation) {
        ack.wrapAndApplyHeader(out, 0, outHeader)
                .backupId(backupId.getAsLong())
                .masterId(masterId)
                .segmentId(segmentId)
                .epoch(epoch)
                .bufferedLength(length)
                .closed(closed ? BooleanType.TRUE : BooleanType.FALSE)
                .correlationId(correlation)
                .certifiedLength(certified);
        offer(masterId, MessageHeaderEncoder.ENCODED_LENGTH + ack.encodedLength());
    }

    private void sendReject(long masterId, long segmentId, long epoch, RejectReason reason, int length,
                            long correlation) {
        rejected.incrementAndGet();
        reject.wrapAndApplyHeader(out, 0, outHeader)
                .backupId(backupId.getAsLong())
                .masterId(masterId)
                .segmentId(segmentId)
                .epoch(epoch)
                .reason(reason)
                .bufferedLength(length)
                .correlationId(correlation);
        offer(masterId, MessageHeaderEncoder.ENCODED_LENGTH + reject.encodedLength());
    }

    /** Offers an answer, waiting a bounded time on back pressure; a lost answer makes the master resend. */
    private void offer(long masterId, int length) {
        ExclusivePublication publication = replies.get(masterId);
        if (publication == null) {
            return;
        }
        long result = publication.offer(out, 0, length);
        if (result >= 0) {
            return; // the usual case: nothing to wait for
        }
        // A bounded wait on a reply channel (I/O, not timing logic): real time, whatever the clock.
        long deadline = System.nanoTime() + REPLY_TIMEOUT_NS;
        replyWait.reset();
        while (result < 0) {
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED
                    || System.nanoTime() - deadline > 0 || !running) {
                return;
            }
            replyWait.idle();
            result = publication.offer(out, 0, length);
        }
    }

    /**
     * Fault injection: while on, every message is received and dropped without an answer, as
     * a hung backup would (its masters must time out and place the replicas elsewhere).
     */
    public void withholdAnswers(boolean on) {
        withholding = on;
    }

    /**
     * Fault injection: while on, every FREE is received and ignored, as if it had been lost on
     * the way (reconciliation must drop the orphans).
     */
    public void dropFrees(boolean on) {
        droppingFrees = on;
    }

    /** Replication messages received. */
    public long messages() {
        return messages.get();
    }

    /** Fragments received over {@code aeron:ipc} (from masters that share this backup's media driver). */
    public long ipcFragments() {
        long sum = 0;
        for (int i = 0; i < endpoints.size(); i++) {
            sum += endpoints.get(i).ipc() ? received.get(i) : 0;
        }
        return sum;
    }

    /** Messages refused. */
    public long rejected() {
        return rejected.get();
    }

    /** Replica bytes received. */
    public long bytesReceived() {
        return bytesReceived.get();
    }

    /** The store behind the service. */
    public ReplicaStore store() {
        return store;
    }

    /** Faults met while handling messages (each skipped; the first of each kind logged). */
    public long faults() {
        return faults.get();
    }

    /** Replicas dropped because their master's recovery was over (see {@link MasterDirectory#recovered}). */
    public long recoveredMastersReplicasDropped() {
        return recoveredMastersFreed.get();
    }

    /** Masters' answers applied by reconciliation. */
    public long reconciliations() {
        return reconciliations.get();
    }

    /** Closes the reply publications and subscriptions (on the agent's thread when a runner runs it). */
    @Override
    public void onClose() {
        for (ExclusivePublication publication : replies.values()) {
            publication.close();
        }
        replies.clear();
        subscriptions.forEach(Subscription::close);
    }

    /** Stops the duty cycle (waiting for the runner's thread), then closes what it used. */
    @Override
    public void close() {
        running = false;
        if (runner != null) {
            runner.close();
        } else {
            onClose();
        }
    }
}
