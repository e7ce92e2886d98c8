package io.ferrite.server.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EpochFenceTest {
    @Test
    void admitsTheHighestEpochSeenAndRefusesLowerOnesAndNone() {
        EpochFence fence = new EpochFence();
        assertThat(fence.check(0)).startsWith("stale coordinator epoch 0 < 0");
        assertThat(fence.check(3)).isNull();
        assertThat(fence.highest()).isEqualTo(3);
        assertThat(fence.check(3)).as("the same leader again").isNull();
        assertThat(fence.check(2)).isEqualTo("stale coordinator epoch 2 < 3: the request comes from a deposed"
                + " coordinator leader");
        assertThat(fence.check(0)).startsWith("stale coordinator epoch 0 < 3");
        fence.observe(5); // a heartbeat acknowledgement of a new leader
        assertThat(fence.check(3)).startsWith("stale coordinator epoch 3 < 5");
        fence.observe(4); // never lowered
        assertThat(fence.highest()).isEqualTo(5);
        assertThat(fence.check(6)).isNull();
    }

    @Test
    void admitRunsTheWorkOnlyWhenAdmitted() {
        EpochFence fence = new EpochFence();
        List<String> done = new ArrayList<>();
        assertThat(fence.admit(2, () -> {
            done.add("take 2");
            return "OK";
        }, refusal -> "STALE " + refusal)).isEqualTo("OK");
        assertThat(fence.admit(1, () -> {
            done.add("take 1");
            return "OK";
        }, refusal -> "STALE " + refusal)).startsWith("STALE stale coordinator epoch 1 < 2");
        assertThat(done).containsExactly("take 2");
    }
}
