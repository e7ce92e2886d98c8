package io.ferrite.master.tablet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

class TabletSetTest {
    private static final long HALF = Long.MIN_VALUE; // 2^63 unsigned

    @Test
    void ownsExactlyItsRangesWithUnsignedBounds() {
        TabletSet set = new TabletSet();
        assertThat(set.owns(1, 0)).isFalse();
        assertThat(set.add(1, HALF, -1L)).isTrue();
        assertThat(set.add(2, 0, 99)).isTrue();
        assertThat(set.owns(1, HALF)).isTrue();
        assertThat(set.owns(1, -1L)).isTrue();
        assertThat(set.owns(1, HALF - 1)).isFalse();
        assertThat(set.owns(1, 0)).isFalse();
        assertThat(set.owns(2, 0)).isTrue();
        assertThat(set.owns(2, 99)).isTrue();
        assertThat(set.owns(2, 100)).isFalse();
        assertThat(set.owns(3, 5)).isFalse();
        assertThat(set.ownsAny(1)).isTrue();
        assertThat(set.ownsAny(3)).isFalse();
    }

    @Test
    void addIsIdempotentAndMergesTouchingRanges() {
        TabletSet set = new TabletSet();
        set.add(7, 0, 9);
        assertThat(set.add(7, 0, 9)).isFalse();
        assertThat(set.add(7, 2, 5)).isFalse();
        set.add(7, 10, 19);
        set.add(7, 30, 39);
        assertThat(set.rangesOf(7)).containsExactly(new TabletSet.Range(7, 0, 19), new TabletSet.Range(7, 30, 39));
        set.add(7, 15, 35);
        assertThat(set.rangesOf(7)).containsExactly(new TabletSet.Range(7, 0, 39));
        set.add(7, 40, -1L);
        assertThat(set.rangesOf(7)).containsExactly(new TabletSet.Range(7, 0, -1L));
        assertThatThrownBy(() -> set.add(7, 5, 4)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void removeAndClear() {
        TabletSet set = new TabletSet();
        set.add(1, 0, 10);
        set.add(2, 0, 10);
        set.add(2, 20, 30);
        assertThat(set.removeTable(2)).isEqualTo(2);
        assertThat(set.removeTable(2)).isZero();
        assertThat(set.owns(2, 5)).isFalse();
        assertThat(set.owns(1, 5)).isTrue();
        assertThat(set.clear()).containsExactly(1);
        assertThat(set.size()).isZero();
    }

    @Test
    void agreesWithALinearScanOnRandomRanges() {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        TabletSet set = new TabletSet();
        long[][] ranges = new long[40][];
        for (int i = 0; i < ranges.length; i++) {
            long a = random.nextLong();
            long b = random.nextInt(4) == 0 ? a : random.nextLong();
            long start = Long.compareUnsigned(a, b) <= 0 ? a : b;
            long end = Long.compareUnsigned(a, b) <= 0 ? b : a;
            long table = random.nextInt(4) - 1;
            ranges[i] = new long[] {table, start, end};
            set.add(table, start, end);
        }
        for (int probe = 0; probe < 20_000; probe++) {
            long table = random.nextInt(4) - 1;
            long hash = random.nextInt(3) == 0 ? ranges[random.nextInt(ranges.length)][1 + random.nextInt(2)]
                    + random.nextInt(3) - 1 : random.nextLong();
            boolean expected = false;
            for (long[] r : ranges) {
                expected |= r[0] == table && Long.compareUnsigned(hash, r[1]) >= 0
                        && Long.compareUnsigned(hash, r[2]) <= 0;
            }
            assertThat(set.owns(table, hash)).as("seed %d, table %d, hash %s", seed, table,
                    Long.toUnsignedString(hash)).isEqualTo(expected);
        }
    }
}
