package io.ferrite.coordinator.table;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class HashRangeTest {
    private static final BigInteger ONE = BigInteger.ONE;

    static BigInteger unsigned(long value) {
        return new BigInteger(Long.toUnsignedString(value));
    }

    /** Asserts the ranges cover 0..2^64-1 in order, without gaps or overlaps, in near-equal parts. */
    static void assertCoversHashSpace(List<HashRange> ranges) {
        assertThat(ranges).isNotEmpty();
        assertThat(ranges.getFirst().start()).isZero();
        assertThat(ranges.getLast().end()).isEqualTo(-1L);
        BigInteger smallest = null;
        BigInteger largest = null;
        for (int i = 0; i < ranges.size(); i++) {
            HashRange range = ranges.get(i);
            BigInteger size = unsigned(range.end()).subtract(unsigned(range.start())).add(ONE);
            smallest = smallest == null || size.compareTo(smallest) < 0 ? size : smallest;
            largest = largest == null || size.compareTo(largest) > 0 ? size : largest;
            if (i > 0) {
                assertThat(unsigned(ranges.get(i - 1).end()).add(ONE)).as("range %d starts where %d ends", i, i - 1)
                        .isEqualTo(unsigned(range.start()));
            }
        }
        assertThat(largest.subtract(smallest)).isLessThanOrEqualTo(ONE);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 7, 8, 10, 64, 100, 999, 1024})
    void splitCoversTheWholeSpaceInEqualParts(int count) {
        List<HashRange> ranges = HashRange.split(count);
        assertThat(ranges).hasSize(count);
        assertCoversHashSpace(ranges);
    }

    @Test
    void oneRangeIsEverything() {
        assertThat(HashRange.split(1)).containsExactly(new HashRange(0, -1L));
        assertThat(HashRange.split(2)).containsExactly(new HashRange(0, Long.MAX_VALUE),
                new HashRange(Long.MIN_VALUE, -1L));
    }

    @Test
    void containsIsUnsigned() {
        HashRange upper = HashRange.split(2).get(1);
        assertThat(upper.contains(-1L)).isTrue();
        assertThat(upper.contains(Long.MIN_VALUE)).isTrue();
        assertThat(upper.contains(Long.MAX_VALUE)).isFalse();
    }

    @Test
    void rejectsNonPositiveCountsAndEmptyRanges() {
        assertThatThrownBy(() -> HashRange.split(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HashRange(-1L, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void tableNames() {
        assertThat(TableNames.problem("users")).isNull();
        assertThat(TableNames.problem("x".repeat(256))).isNull();
        assertThat(TableNames.problem("ü".repeat(128))).isNull();
        assertThat(TableNames.problem("")).contains("empty");
        assertThat(TableNames.problem(null)).contains("empty");
        assertThat(TableNames.problem("x".repeat(257))).contains("257 bytes");
        assertThat(TableNames.problem("ü".repeat(129))).contains("258 bytes");
        assertThat(TableNames.problem("a/b")).contains("'/'");
    }
}
