package io.ferrite.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import site.ycsb.ByteArrayByteIterator;
import site.ycsb.ByteIterator;

class RecordCodecTest {
    private static Map<String, ByteIterator> record(int fields, int length) {
        Map<String, ByteIterator> r = new LinkedHashMap<>();
        for (int f = 0; f < fields; f++) {
            byte[] v = new byte[length];
            Arrays.fill(v, (byte) ('a' + f));
            r.put("field" + f, new ByteArrayByteIterator(v));
        }
        return r;
    }

    @Test
    void roundTripsEveryFieldAndSelectsWantedOnes() {
        byte[] encoded = RecordCodec.encode(record(10, 100));
        assertThat(encoded).hasSize(1 + 10 * (1 + 6 + 4 + 100));
        Map<String, ByteIterator> all = new HashMap<>();
        RecordCodec.decode(encoded, null, all);
        assertThat(all).hasSize(10);
        assertThat(all.get("field3").toArray()).containsOnly((byte) 'd').hasSize(100);
        Map<String, ByteIterator> some = new HashMap<>();
        RecordCodec.decode(encoded, Set.of("field9"), some);
        assertThat(some.keySet()).containsExactly("field9");
        assertThat(some.get("field9").toArray()).containsOnly((byte) 'j');
    }

    @Test
    void rejectsTruncatedOrTrailingBytes() {
        byte[] encoded = RecordCodec.encode(record(2, 10));
        assertThatThrownBy(() -> RecordCodec.decode(Arrays.copyOf(encoded, encoded.length - 1), null, new HashMap<>()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RecordCodec.decode(Arrays.copyOf(encoded, encoded.length + 1), null, new HashMap<>()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("after the record's last field");
        assertThatThrownBy(() -> RecordCodec.decode(new byte[] {1, 3, 'a', 'b', 'c', 0x7f, 0, 0, 0}, null,
                new HashMap<>())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("past the record's end");
    }
}
