package io.ferrite.server.lease;

import io.ferrite.proto.v1.HeartbeatRequest;
import io.ferrite.proto.v1.HeartbeatResponse;
import io.ferrite.proto.v1.Status;
import io.ferrite.server.control.EpochFence;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's side of failure detection, an Agrona {@link Agent}: every {@code intervalNs} it
 * sends a heartbeat to the leader coordinator ({@code CoordinatorService.Heartbeat},
 * asynchronously), and each acknowledgement extends the {@link Lease} to
 * {@code sendNs + leaseMs - marginNs}, where {@code sendNs} is when <i>that</i> heartbeat was sent
 * (this process's monotonic clock, read once per duty cycle) and {@code leaseMs} is what the
 * leader granted. Since the leader declares a server CRASHED only once {@code lease + its margin}
 * has passed since it <i>received</i> the last heartbeat it acknowledged (which was after the
 * send), this server has stopped serving by then.
 *
 * <p>Which coordinator: the one that acknowledged last; else the leader the cached leader latch
 * shows; else any running coordinator, whose NOT_LEADER answer names the leader (tried at once).
 * An acknowledgement from an epoch lower than the highest this server has seen is ignored (a
 * deposed leader); higher epochs raise the {@link EpochFence}. An answer WRONG_SERVER (the
 * cluster declared this server CRASHED, or a newer generation replaced it) deposes it for good:
 * {@code onDeposed} runs once and no heartbeat is sent again.
 *
 * <p>Threads: {@link #doWork()} on the agent's runner (or a test with a hand-moved clock);
 * answers on the transport's threads.
 */
public final class HeartbeatSender implements Agent {
    private static final Logger LOG = LoggerFactory.getLogger(HeartbeatSender.class);

    /** Sends one heartbeat to a coordinator, asynchronously. */
    public interface Transport extends AutoCloseable {
        /**
         * Sends {@code request} to the coordinator at {@code address} with a deadline; {@code done}
         * gets the answer or the failure, on any thread, exactly once.
         */
        void send(String address, HeartbeatRequest request, long timeoutNs,
                  BiConsumer<HeartbeatResponse, Throwable> done);

        @Override
        void close();
    }

    /** Where the coordinators are (this server's cached view of ZooKeeper). */
    public interface Directory {
        /** The leader as the leader latch shows it, if any. */
        Optional<String> leader();

        /** Every running coordinator's address. */
        List<String> coordinators();
    }

    private final Lease lease;
    private final EpochFence fence;
    private final LongSupplier selfId;
    private final Transport transport;
    private final Directory directory;
    private final NanoClock clock;
    private final long intervalNs;
    private final long marginNs;
    private final long timeoutNs;
    private final Consumer<String> onDeposed;
    private final AtomicBoolean deposed = new AtomicBoolean();
    private final CountDownLatch firstAck = new CountDownLatch(1);
    private final AtomicLong acks = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile long nextSendNs;
    private volatile String hint;
    private volatile String failedTarget;
    private volatile boolean warnedShortLease;
    private long sequence;
    private int roundRobin;

    /**
     * @param selfId     this server's id (0 while unregistered: nothing is sent)
     * @param intervalNs time between heartbeats
     * @param marginNs   how much earlier than the granted lease this server stops serving
     * @param onDeposed  runs once (on a transport thread) when the cluster says this id is not UP
     */
    public HeartbeatSender(Lease lease, EpochFence fence, LongSupplier selfId, Transport transport,
                           Directory directory, NanoClock clock, long intervalNs, long marginNs,
                           Consumer<String> onDeposed) {
        if (intervalNs <= 0 || marginNs < 0) {
            throw new IllegalArgumentException("heartbeat interval " + intervalNs + " ns, margin " + marginNs + " ns");
        }
        this.lease = lease;
        this.fence = fence;
        this.selfId = selfId;
        this.transport = transport;
        this.directory = directory;
        this.clock = clock;
        this.intervalNs = intervalNs;
        this.marginNs = marginNs;
        this.timeoutNs = Math.max(5 * intervalNs, TimeUnit.MILLISECONDS.toNanos(200));
        this.onDeposed = onDeposed;
        this.nextSendNs = clock.nanoTime();
    }

    @Override
    public String roleName() {
        return "ferrite-heartbeat";
    }

    @Override
    public int doWork() {
        long nowNs = clock.nanoTime();
        long id = selfId.getAsLong();
        if (deposed.get() || id == 0 || nowNs - nextSendNs < 0) {
            return 0;
        }
        nextSendNs = nowNs + intervalNs;
        String target = target();
        if (target == null) {
            return 0;
        }
        HeartbeatRequest request = HeartbeatRequest.newBuilder().setServerId(id).setSequence(++sequence)
                .setCoordinatorEpoch(fence.highest()).build();
        transport.send(target, request, timeoutNs, (response, failure) -> answered(target, nowNs, response, failure));
        return 1;
    }

    /** Where to send: the last coordinator that acknowledged, the latch's leader, or any coordinator. */
    private String target() {
        String h = hint;
        if (h != null) {
            return h;
        }
        String failed = failedTarget;
        Optional<String> leader = directory.leader();
        if (leader.isPresent() && !leader.get().equals(failed)) {
            return leader.get();
        }
        List<String> all = directory.coordinators();
        for (int i = 0; i < all.size(); i++) {
            String candidate = all.get(Math.floorMod(roundRobin++, all.size()));
            if (!candidate.equals(failed) || all.size() == 1) {
                return candidate;
            }
        }
        return leader.orElse(null);
    }

    private void answered(String target, long sendNs, HeartbeatResponse response, Throwable failure) {
        if (failure != null) {
            failures.incrementAndGet();
            failedTarget = target;
            if (target.equals(hint)) {
                hint = null;
            }
            LOG.debug("heartbeat to {} failed: {}", target, failure.toString());
            return;
        }
        Status status = response.getStatus();
        switch (status) {
            case OK -> acknowledged(target, sendNs, response);
            case NOT_LEADER -> {
                String leader = response.getLeader();
                hint = leader.isEmpty() || leader.equals(target) ? null : leader;
                failedTarget = leader.isEmpty() ? target : null;
                if (hint != null) {
                    nextSendNs = clock.nanoTime(); // ask the leader at the next duty cycle
                }
            }
            case WRONG_SERVER -> {
                if (deposed.compareAndSet(false, true)) {
                    LOG.error("coordinator {} (epoch {}) says this server is not in the cluster any more: {}", target,
                            response.getCoordinatorEpoch(), response.getMessage());
                    onDeposed.accept(response.getMessage());
                }
            }
            default -> LOG.debug("heartbeat to {} not acknowledged: {} {}", target, status, response.getMessage());
        }
    }

    private void acknowledged(String target, long sendNs, HeartbeatResponse response) {
        long epoch = response.getCoordinatorEpoch();
        if (epoch < fence.highest()) {
            LOG.debug("ignored an acknowledgement of {} from epoch {} < {}", target, epoch, fence.highest());
            hint = null;
            failedTarget = target;
            return;
        }
        fence.observe(epoch);
        long leaseNs = TimeUnit.MILLISECONDS.toNanos(response.getLeaseMs());
        if (leaseNs <= marginNs + intervalNs && !warnedShortLease) {
            warnedShortLease = true;
            LOG.warn("the coordinator grants leases of {} ms, hardly more than this server's heartbeat interval"
                    + " ({} ms) plus margin ({} ms): the lease will lapse often", response.getLeaseMs(),
                    TimeUnit.NANOSECONDS.toMillis(intervalNs), TimeUnit.NANOSECONDS.toMillis(marginNs));
        }
        lease.extend(sendNs + leaseNs - marginNs);
        hint = target;
        failedTarget = null;
        acks.incrementAndGet();
        firstAck.countDown();
    }

    /**
     * Waits for the first acknowledgement (start-up: a server serves once it has a lease).
     *
     * @return whether one arrived within {@code timeoutMs}
     */
    public boolean awaitFirstAck(long timeoutMs) throws InterruptedException {
        return firstAck.await(timeoutMs, TimeUnit.MILLISECONDS);
    }

    /** Acknowledged heartbeats so far. */
    public long acks() {
        return acks.get();
    }

    /** Heartbeats that got no answer (transport failures). */
    public long failures() {
        return failures.get();
    }

    /** Whether the cluster said this server is not UP (it stopped for good). */
    public boolean isDeposed() {
        return deposed.get();
    }

    @Override
    public void onClose() {
        transport.close();
    }
}
