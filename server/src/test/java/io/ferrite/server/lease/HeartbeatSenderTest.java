package io.ferrite.server.lease;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.coordinator.registry.ServerId;
import io.ferrite.proto.v1.HeartbeatRequest;
import io.ferrite.proto.v1.HeartbeatResponse;
import io.ferrite.proto.v1.Status;
import io.ferrite.server.control.EpochFence;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.agrona.concurrent.CachedNanoClock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The heartbeat sender's duty cycle with a hand-moved clock and a fake transport whose answers
 * the test delivers: the lease runs from each acknowledged heartbeat's send time, redirects are
 * followed at once, stale epochs are ignored, and a WRONG_SERVER deposes for good.
 */
class HeartbeatSenderTest {
    private static final long ID = new ServerId(4, 2).asLong();
    private static final long INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long MARGIN_NS = TimeUnit.MILLISECONDS.toNanos(50);

    /** A heartbeat the sender handed to the transport, and how to answer it. */
    private record Sent(String address, HeartbeatRequest request, BiConsumer<HeartbeatResponse, Throwable> done) {
        void answer(HeartbeatResponse response) {
            done.accept(response, null);
        }

        void fail() {
            done.accept(null, new IllegalStateException("connection refused"));
        }
    }

    private final CachedNanoClock clock = new CachedNanoClock();
    private final List<Sent> sent = new ArrayList<>();
    private final List<String> deposed = new ArrayList<>();
    private final EpochFence fence = new EpochFence();
    private Lease lease;
    private HeartbeatSender sender;
    private String latchLeader = "c1:7100";

    private void at(long ms) {
        clock.update(TimeUnit.MILLISECONDS.toNanos(5_000 + ms));
    }

    private static long ns(long ms) {
        return TimeUnit.MILLISECONDS.toNanos(5_000 + ms);
    }

    private static HeartbeatResponse ok(long epoch, int leaseMs) {
        return HeartbeatResponse.newBuilder().setStatus(Status.OK).setCoordinatorEpoch(epoch).setLeaseMs(leaseMs)
                .build();
    }

    @BeforeEach
    void create() {
        at(0);
        lease = new Lease(clock);
        lease.granted(ServerId.of(ID));
        HeartbeatSender.Transport transport = new HeartbeatSender.Transport() {
            @Override
            public void send(String address, HeartbeatRequest request, long timeoutNs,
                             BiConsumer<HeartbeatResponse, Throwable> done) {
                sent.add(new Sent(address, request, done));
            }

            @Override
            public void close() {
            }
        };
        HeartbeatSender.Directory directory = new HeartbeatSender.Directory() {
            @Override
            public Optional<String> leader() {
                return Optional.ofNullable(latchLeader);
            }

            @Override
            public List<String> coordinators() {
                return List.of("c1:7100", "c2:7100");
            }
        };
        sender = new HeartbeatSender(lease, fence, () -> ID, transport, directory, clock, INTERVAL_NS, MARGIN_NS,
                deposed::add);
    }

    private Sent last() {
        return sent.get(sent.size() - 1);
    }

    @Test
    void sendsEveryIntervalAndTheLeaseRunsFromTheSendTimeOfTheAcknowledgedHeartbeat() {
        assertThat(sender.doWork()).isEqualTo(1);
        Sent first = last();
        assertThat(first.address()).isEqualTo("c1:7100");
        assertThat(first.request().getServerId()).isEqualTo(ID);
        at(50);
        assertThat(sender.doWork()).as("not due yet").isZero();
        at(100);
        assertThat(sender.doWork()).isEqualTo(1);
        assertThat(sent).hasSize(2);
        // The first one is acknowledged late (at 120 ms): its lease counts from 0 ms, not 120 ms.
        at(120);
        first.answer(ok(1, 600));
        assertThat(lease.isValid()).isTrue();
        assertThat(lease.heartbeatRemainingNs()).isEqualTo(ns(550) - ns(120));
        assertThat(fence.highest()).isEqualTo(1);
        at(549);
        assertThat(lease.isValid()).isTrue();
        at(550);
        assertThat(lease.isValid()).isFalse();
        sent.get(1).answer(ok(1, 600)); // the one sent at 100 ms
        assertThat(lease.isValid()).isTrue();
        at(649);
        assertThat(lease.isValid()).isTrue();
        at(650);
        assertThat(lease.isValid()).isFalse();
        assertThat(sender.acks()).isEqualTo(2);
    }

    @Test
    void aFollowersRedirectIsFollowedAtTheNextCycle() {
        latchLeader = "c2:7100"; // the cached latch lags: c2 is no longer leader
        sender.doWork();
        assertThat(last().address()).isEqualTo("c2:7100");
        last().answer(HeartbeatResponse.newBuilder().setStatus(Status.NOT_LEADER).setLeader("c1:7100").build());
        at(1);
        assertThat(sender.doWork()).as("asked again at once").isEqualTo(1);
        assertThat(last().address()).isEqualTo("c1:7100");
        last().answer(ok(2, 600));
        assertThat(lease.isValid()).isTrue();
        at(101);
        sender.doWork();
        assertThat(last().address()).as("stays with the leader that acknowledged").isEqualTo("c1:7100");
    }

    @Test
    void anUnreachableLeaderMakesItAskAnotherCoordinator() {
        sender.doWork();
        last().fail();
        at(100);
        sender.doWork();
        assertThat(last().address()).isEqualTo("c2:7100");
    }

    @Test
    void anAcknowledgementFromAnOlderEpochIsIgnored() {
        fence.observe(5);
        sender.doWork();
        last().answer(ok(4, 600));
        assertThat(lease.isValid()).as("a deposed leader cannot extend the lease").isFalse();
        at(100);
        sender.doWork();
        last().answer(ok(5, 600));
        assertThat(lease.isValid()).isTrue();
        at(200);
        sender.doWork();
        last().answer(ok(6, 600));
        assertThat(fence.highest()).isEqualTo(6);
    }

    @Test
    void wrongServerDeposesOnceAndStopsTheHeartbeats() {
        sender.doWork();
        last().answer(ok(1, 600));
        at(100);
        sender.doWork();
        last().answer(HeartbeatResponse.newBuilder().setStatus(Status.WRONG_SERVER)
                .setMessage("the cluster lists server 4.2 as CRASHED").build());
        last().answer(HeartbeatResponse.newBuilder().setStatus(Status.WRONG_SERVER).build());
        assertThat(deposed).containsExactly("the cluster lists server 4.2 as CRASHED");
        assertThat(sender.isDeposed()).isTrue();
        int before = sent.size();
        at(1_000);
        assertThat(sender.doWork()).isZero();
        assertThat(sent).hasSize(before);
    }

    @Test
    void retryAndUnknownStatusesGrantNothing() {
        sender.doWork();
        last().answer(HeartbeatResponse.newBuilder().setStatus(Status.RETRY).setCoordinatorEpoch(1).build());
        assertThat(lease.isValid()).isFalse();
        assertThat(lease.heartbeatGranted()).isFalse();
    }
}
