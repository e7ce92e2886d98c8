package io.ferrite.master.replication;

import io.aeron.Aeron;
import io.ferrite.log.SegmentCertificate;
import io.ferrite.master.epoch.EpochManager;
import io.ferrite.master.log.MasterLog;
import io.ferrite.master.log.ReplicationHook;
import io.ferrite.proto.ReplicationStreams;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's end of replication, as the log and the data service see it: the
 * {@link ReplicationHook} the log reports to, and the durability questions writers and readers
 * ask ({@link #whenDurable}, {@link #isDurable}). It only queues; the work is done by a
 * {@link ReplicationAgent} on its own thread (an Agrona {@link AgentRunner}), which owns all
 * replication state.
 *
 * <p>Durability: {@link #whenDurable(long, int)} completes once every replica of that segment
 * acknowledged at least that length as certified, and every earlier segment still in the log
 * is complete on all of its replicas. Futures complete on the agent's thread.
 *
 * <p>Failures: a backup that leaves the cluster's live set, rejects a replica, or does not
 * answer within {@code ackTimeout} (after one resend) loses its replicas: each is opened on
 * another backup at a higher epoch and sent again from the master's memory (what it holds now,
 * compacted or not). Writes stall meanwhile; {@link Stats#stallNs()} says for how long in total.
 */
public final class ReplicaManager implements ReplicationHook, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaManager.class);
    private static final long AWAIT_PARK_NS = 20_000;
    private static final long IDLE_PARK_NS = 1_000_000;

    /**
     * A backup the master may place replicas on, and the endpoint to reach it by: its UDP
     * channel, or its IPC stream when both share a media driver.
     */
    public record Backup(long serverId, ReplicationStreams.Endpoint endpoint, String failureDomain) {
    }

    /** Counters of the replica manager ({@code faults}: unexpected exceptions, each of which restarted replicas). */
    public record Stats(long replicasOpened, long bytesSent, long messagesSent, long backPressured,
                        long replicasReplaced, long stallNs, int segmentsTracked, int waiters, long faults) {
    }

    /**
     * Where the log's replicas are.
     *
     * @param fullyReplicated   every segment has R replicas opened on their backups, and every closed
     *                          segment is complete on all of them
     * @param backups           the server ids of the backups holding replicas now
     * @param replicasBySegment for every segment the master still needs replicas of (those in the log,
     *                          and those the cleaner freed whose FREE has not been sent yet), the
     *                          backups it keeps them on
     * @param highestSegmentId  the highest segment id the sender had seen opened when it answered: a
     *                          backup's replica of a higher id is newer than this answer and must be kept
     */
    public record Placement(boolean fullyReplicated, Set<Long> backups, Map<Long, Set<Long>> replicasBySegment,
                            long highestSegmentId) {
    }

    private final int factor;
    private final ReplicationAgent agent;
    private volatile String selfFailureDomain = "";
    private volatile java.util.function.BooleanSupplier viewTrusted = () -> true;
    private volatile AgentRunner runner;
    private volatile Thread thread;
    private volatile boolean parked;
    private volatile boolean closed;

    /**
     * Creates the manager over Aeron; the log's reports queue up until {@link #start}.
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
                          int maxChunkBytes, Duration ackTimeout) {
        this(factor, new AeronReplicaTransport(aeron, udpReply, ipcReply), selfId, liveBackups, maxChunkBytes,
                ackTimeout, SystemNanoClock.INSTANCE);
    }

    /** As above over any transport, with the clock the agent reads (tests: a fake transport and clock). */
    public ReplicaManager(int factor, ReplicaTransport transport, LongSupplier selfId,
                          Supplier<List<Backup>> liveBackups, int maxChunkBytes, Duration ackTimeout, NanoClock clock) {
        this.factor = factor;
        this.agent = new ReplicationAgent(factor, transport, maxChunkBytes, selfId, liveBackups,
                () -> selfFailureDomain, () -> viewTrusted.getAsBoolean(), clock, ackTimeout.toNanos());
    }

    /**
     * Starts the agent's thread.
     *
     * @param log    the master's log (bytes are read from its segments)
     * @param epochs guards reads of segments the cleaner may free
     */
    public ReplicaManager start(MasterLog log, EpochManager epochs) {
        AgentRunner started = new AgentRunner(new ReplicationIdle(), this::onAgentError, null, agent(log, epochs));
        runner = started;
        thread = AgentRunner.startOnThread(started, Thread.ofPlatform().daemon().factory());
        return this;
    }

    /**
     * The agent, attached to the log, without a thread: the caller runs its duty cycle (tests
     * drive {@link ReplicationAgent#doWork()} with a hand-moved clock).
     */
    public ReplicationAgent agent(MasterLog log, EpochManager epochs) {
        return agent.attach(log, epochs);
    }

    private void onAgentError(Throwable error) {
        // The agent catches faults per segment; one that escapes a whole cycle is a bug: do not spin on it.
        LOG.error("replication duty cycle failed (continuing in 1 ms): {}", error.toString(), error);
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }

    // ---- ReplicationHook: called under the log's append lock; queue and wake ----

    @Override
    public void segmentOpened(long segmentId) {
        agent.segmentOpened(segmentId);
        wake();
    }

    @Override
    public void sync(long segmentId, int lengthBytes, int certificateChecksum) {
        agent.sync(segmentId, lengthBytes, certificateChecksum);
        wake();
    }

    @Override
    public void segmentClosed(long segmentId, SegmentCertificate certificate) {
        agent.segmentClosed(segmentId, certificate);
        wake();
    }

    @Override
    public void segmentFreed(long segmentId) {
        agent.segmentFreed(segmentId);
        wake();
    }

    @Override
    public boolean replicated(long segmentId) {
        return agent.replicated(segmentId);
    }

    /**
     * Completes once the bytes up to {@code length} of segment {@code segmentId}, and every
     * earlier segment of the log, are certified on all of their replicas.
     */
    public CompletableFuture<Void> whenDurable(long segmentId, int length) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("replication stopped"));
        }
        CompletableFuture<Void> future = agent.whenDurable(segmentId, length);
        wake();
        return future;
    }

    /**
     * Whether the bytes up to {@code length} of segment {@code segmentId}, and every earlier
     * segment of the log, are already certified on all of their replicas: a cheap check for readers
     * that allocates nothing (false when unsure; then {@link #whenDurable} gives the answer).
     */
    public boolean isDurable(long segmentId, int length) {
        return agent.isDurable(segmentId, length);
    }

    private void wake() {
        if (parked) {
            LockSupport.unpark(thread);
        }
    }

    public Stats stats() {
        return agent.stats();
    }

    /** Where the log's replicas are now, answered by the agent at its next duty cycle. */
    public CompletableFuture<Placement> placement() {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("replication stopped"));
        }
        CompletableFuture<Placement> answer = agent.placement();
        wake();
        return answer;
    }

    /** This master's failure domain: replicas go to other domains first. */
    public ReplicaManager failureDomain(String domain) {
        this.selfFailureDomain = domain == null ? "" : domain;
        return this;
    }

    /**
     * Whether this server's view of the cluster can be trusted now (its lease is valid). While it
     * cannot (ZooKeeper unreachable, or this master rejoining after its session expired), backups
     * missing from the live set, silent, or refusing this master as not in the cluster keep their
     * replicas: the view is stale, not the backups, and re-replicating everything at a higher epoch
     * would only churn the log (and briefly leave segments with fewer complete copies).
     */
    public ReplicaManager viewTrusted(java.util.function.BooleanSupplier trusted) {
        this.viewTrusted = trusted;
        return this;
    }

    /** Replicas per segment (R). */
    public int factor() {
        return factor;
    }

    @Override
    public void close() {
        closed = true;
        AgentRunner r = runner;
        if (r != null) {
            r.close(); // runs the agent's onClose on its thread: waiters fail, the transport closes
        } else {
            agent.onClose();
        }
    }

    /**
     * Spins, then yields, then parks: briefly while a backup's answer is due (answers arrive on
     * a subscription, which cannot wake the thread), else up to a millisecond or until the log
     * or a writer queues something ({@link #wake}).
     */
    private final class ReplicationIdle implements IdleStrategy {
        private static final int SPINS = 50;
        private static final int YIELDS = 10;
        private int idleCycles;

        @Override
        public void idle(int workCount) {
            if (workCount > 0) {
                idleCycles = 0;
                return;
            }
            idle();
        }

        @Override
        public void idle() {
            idleCycles++;
            if (idleCycles < SPINS) {
                Thread.onSpinWait();
            } else if (idleCycles < SPINS + YIELDS) {
                Thread.yield();
            } else {
                parked = true;
                if (!agent.hasInput()) {
                    LockSupport.parkNanos(agent.awaitingAnswers() ? AWAIT_PARK_NS : IDLE_PARK_NS);
                }
                parked = false;
            }
        }

        @Override
        public void reset() {
            idleCycles = 0;
        }
    }
}
