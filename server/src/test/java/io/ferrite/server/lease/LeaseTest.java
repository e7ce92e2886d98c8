package io.ferrite.server.lease;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.coordinator.registry.ServerId;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.CachedNanoClock;
import org.junit.jupiter.api.Test;

/**
 * The lease on a hand-moved clock: valid only while the ZooKeeper state is VALID and the
 * heartbeat lease runs; a pause past the deadline finds it expired at once, whatever the state
 * says; deposition is for good.
 */
class LeaseTest {
    private static final ServerId ID = new ServerId(3, 1);
    private final CachedNanoClock clock = new CachedNanoClock();

    private void at(long ms) {
        clock.update(TimeUnit.MILLISECONDS.toNanos(1_000_000 + ms));
    }

    private long ns(long ms) {
        return TimeUnit.MILLISECONDS.toNanos(1_000_000 + ms);
    }

    @Test
    void validOnlyWhileRegisteredAndAcknowledgedAndBeforeTheDeadline() {
        at(0);
        Lease lease = new Lease(clock);
        assertThat(lease.isValid()).isFalse();
        lease.granted(ID);
        assertThat(lease.isValid()).as("registered, but no heartbeat acknowledged yet").isFalse();
        assertThat(lease.refusalIsTemporary()).isTrue();
        assertThat(lease.refusalReason()).contains("no lease from the coordinator yet");

        lease.extend(ns(550)); // a heartbeat sent at 0 ms, 600 ms granted, 50 ms margin
        assertThat(lease.isValid()).isTrue();
        at(549);
        assertThat(lease.isValid()).isTrue();
        at(550);
        assertThat(lease.isValid()).as("deadline reached").isFalse();
        assertThat(lease.refusalIsTemporary()).isTrue();
        assertThat(lease.refusalReason()).contains("expired");

        lease.extend(ns(650)); // the heartbeat sent at 100 ms
        assertThat(lease.isValid()).isTrue();
        lease.extend(ns(600)); // an older acknowledgement arriving late never shortens it
        at(620);
        assertThat(lease.isValid()).isTrue();
    }

    @Test
    void theZooKeeperStateGatesTheHeartbeatLease() {
        at(0);
        Lease lease = new Lease(clock);
        lease.granted(ID);
        lease.extend(ns(1_000));
        assertThat(lease.isValid()).isTrue();
        assertThat(lease.suspend()).isTrue();
        assertThat(lease.isValid()).isFalse();
        lease.extend(ns(2_000)); // heartbeats go on while suspended
        assertThat(lease.isValid()).isFalse();
        assertThat(lease.resume()).isTrue();
        assertThat(lease.isValid()).isTrue();
        assertThat(lease.lose()).isTrue();
        assertThat(lease.isValid()).isFalse();
        assertThat(lease.refusalIsTemporary()).as("lost: the tablets may have moved").isFalse();
        assertThat(lease.rejoined()).isTrue();
        assertThat(lease.isValid()).isTrue();
        at(2_000);
        assertThat(lease.isValid()).isFalse();
    }

    @Test
    void aPauseLongerThanTheLeaseIsNoticedAtTheFirstCheckAfterIt() {
        at(0);
        Lease lease = new Lease(clock);
        lease.granted(ID);
        lease.extend(ns(550));
        assertThat(lease.isValid()).isTrue();
        at(3_000); // SIGSTOP for 3 s: no thread ran, the state still says VALID
        assertThat(lease.state()).isEqualTo(Lease.State.VALID);
        assertThat(lease.isValid()).isFalse();
    }

    @Test
    void deposedIsForGood() {
        at(0);
        Lease lease = new Lease(clock);
        lease.granted(ID);
        lease.extend(ns(10_000));
        lease.depose();
        assertThat(lease.isValid()).isFalse();
        assertThat(lease.isDeposed()).isTrue();
        assertThat(lease.refusalIsTemporary()).as("its tablets move: UNKNOWN_TABLET").isFalse();
        lease.extend(ns(20_000));
        assertThat(lease.rejoined()).isFalse();
        assertThat(lease.resume()).isFalse();
        assertThat(lease.isValid()).isFalse();
        assertThat(lease.serverId()).contains(ID);
    }
}
