package io.ferrite.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DeepeningIdleStrategyTest {
    @Test
    void parksDoubleUpToTheMaximumThenGoDeepAfterALongIdleSpellAndWorkResetsIt() {
        DeepeningIdleStrategy s = new DeepeningIdleStrategy(0, 0, 1_000, 8_000, 1_000_000, 500_000);
        long now = 0;
        assertThat(s.nextParkNs(now)).isEqualTo(1_000);
        assertThat(s.nextParkNs(now += 1_000)).isEqualTo(2_000);
        assertThat(s.nextParkNs(now += 2_000)).isEqualTo(4_000);
        assertThat(s.nextParkNs(now += 4_000)).isEqualTo(8_000);
        assertThat(s.nextParkNs(now += 8_000)).isEqualTo(8_000);
        assertThat(s.nextParkNs(999_999)).as("idle just under the deep threshold").isEqualTo(8_000);
        assertThat(s.nextParkNs(1_000_000)).as("idle 1 ms in a row").isEqualTo(500_000);
        assertThat(s.nextParkNs(5_000_000)).isEqualTo(500_000);
        s.idle(1); // work found
        assertThat(s.nextParkNs(6_000_000)).as("after work: back to the shortest park").isEqualTo(1_000);
        assertThat(s.nextParkNs(6_500_000)).isEqualTo(2_000);
    }

    @Test
    void refusesParksThatDoNotDeepen() {
        assertThatThrownBy(() -> new DeepeningIdleStrategy(0, 0, 1_000, 8_000, 1_000, 4_000))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
