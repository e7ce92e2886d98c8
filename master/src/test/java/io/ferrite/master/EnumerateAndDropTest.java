package io.ferrite.master;

import io.ferrite.master.hashtable.HashTable;
import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.proto.KeyHash;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class EnumerateAndDropTest {
    private ObjectManager engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void enumeratesEveryObjectOfATableOnceInCursorOrderAcrossBatchesAndGrowth() {
        engine = new ObjectManager(new EngineContext().memoryBytes(64L << 20).segmentSizeBytes(2 << 20)
                .initialHashBuckets(16).conclude());
        ObjectResult out = new ObjectResult();
        Map<String, String> expected = new HashMap<>();
        for (int i = 0; i < 5_000; i++) {
            String key = "key-" + i;
            engine.write(1, key.getBytes(StandardCharsets.UTF_8), ("v" + i).getBytes(StandardCharsets.UTF_8),
                    RejectRules.NONE, out);
            engine.write(2, key.getBytes(StandardCharsets.UTF_8), new byte[1], RejectRules.NONE, out);
            expected.put(key, "v" + i);
        }
        List<Long> hashes = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        long afterHash = 0;
        byte[] afterKey = null;
        int batches = 0;
        for (;;) {
            List<byte[]> lastKey = new ArrayList<>();
            long[] lastHash = new long[1];
            int n = engine.enumerate(1, 0, -1L, afterHash, afterKey, 333, (key, value, version, ts, hash) -> {
                String k = new String(key, StandardCharsets.UTF_8);
                assertThat(seen.put(k, new String(value, StandardCharsets.UTF_8))).as("seen twice: %s", k).isNull();
                assertThat(hash).isEqualTo(KeyHash.hash(key));
                hashes.add(hash);
                lastKey.add(key);
                lastHash[0] = hash;
                // Writes between batches must not disturb the cursor (the table may grow).
            });
            batches++;
            if (n < 333) {
                break;
            }
            afterHash = lastHash[0];
            afterKey = lastKey.get(lastKey.size() - 1);
            for (int i = 0; i < 100; i++) {
                engine.write(3, ("other-" + batches + "-" + i).getBytes(StandardCharsets.UTF_8), new byte[1],
                        RejectRules.NONE, out);
            }
        }
        assertThat(seen).isEqualTo(expected);
        assertThat(batches).isGreaterThan(10);
        for (int i = 1; i < hashes.size(); i++) {
            assertThat(Long.compareUnsigned(HashTable.indexOrder(hashes.get(i - 1)), HashTable.indexOrder(hashes.get(i))))
                    .isLessThanOrEqualTo(0);
        }
    }

    @Test
    void enumeratesOnlyTheGivenHashRange() {
        engine = new ObjectManager(new EngineContext().memoryBytes(16L << 20).segmentSizeBytes(1 << 20)
                .maxValueBytes(1 << 10).conclude());
        ObjectResult out = new ObjectResult();
        int inLowerHalf = 0;
        for (int i = 0; i < 1_000; i++) {
            byte[] key = ("k" + i).getBytes(StandardCharsets.UTF_8);
            engine.write(1, key, key, RejectRules.NONE, out);
            if (KeyHash.hash(key) >= 0) {
                inLowerHalf++; // unsigned [0, 2^63)
            }
        }
        int[] count = {0};
        int n = engine.enumerate(1, 0, Long.MAX_VALUE, 0, null, 10_000, (key, value, version, ts, hash) -> {
            assertThat(hash).isNotNegative();
            count[0]++;
        });
        assertThat(n).isEqualTo(inLowerHalf).isEqualTo(count[0]);
    }

    /** Two tablets of one table on one master, enumerated in one pass resumed in small batches. */
    @Test
    void enumeratesTwoDisjointRangesInOnePassAcrossBatches() {
        engine = new ObjectManager(new EngineContext().memoryBytes(16L << 20).segmentSizeBytes(1 << 20)
                .maxValueBytes(1 << 10).conclude());
        ObjectResult out = new ObjectResult();
        long quarter = 1L << 62;
        java.util.function.LongPredicate firstAndThirdQuarter = hash -> Long.compareUnsigned(hash, quarter) < 0
                || Long.compareUnsigned(hash, 2 * quarter) >= 0 && Long.compareUnsigned(hash, 3 * quarter) < 0;
        java.util.Set<String> expected = new java.util.HashSet<>();
        for (int i = 0; i < 2_000; i++) {
            byte[] key = ("k" + i).getBytes(StandardCharsets.UTF_8);
            engine.write(1, key, key, RejectRules.NONE, out);
            if (firstAndThirdQuarter.test(KeyHash.hash(key))) {
                expected.add("k" + i);
            }
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        long afterHash = 0;
        byte[] afterKey = null;
        for (;;) {
            byte[][] last = {null};
            long[] lastHash = {0};
            int n = engine.enumerate(1, firstAndThirdQuarter, afterHash, afterKey, 50, (key, value, version, ts, hash) -> {
                assertThat(seen.add(new String(key, StandardCharsets.UTF_8))).as("enumerated twice").isTrue();
                last[0] = key;
                lastHash[0] = hash;
            });
            if (n < 50) {
                break;
            }
            afterKey = last[0];
            afterHash = lastHash[0];
        }
        assertThat(seen).isEqualTo(expected);
    }

    @Test
    void dropTableRemovesOnlyThatTablesObjects() {
        engine = new ObjectManager(new EngineContext().memoryBytes(16L << 20).segmentSizeBytes(1 << 20)
                .maxValueBytes(1 << 10).conclude());
        ObjectResult out = new ObjectResult();
        for (int i = 0; i < 2_000; i++) {
            byte[] key = ("k" + i).getBytes(StandardCharsets.UTF_8);
            engine.write(1, key, key, RejectRules.NONE, out);
            engine.write(2, key, key, RejectRules.NONE, out);
        }
        long liveBefore = engine.stats().liveEntryBytes();
        assertThat(engine.dropTable(1)).isEqualTo(2_000);
        assertThat(engine.stats().liveObjects()).isEqualTo(2_000);
        assertThat(engine.stats().liveEntryBytes()).isLessThan(liveBefore);
        assertThat(engine.read(1, "k7".getBytes(StandardCharsets.UTF_8), out)).isEqualTo(Status.OBJECT_DOESNT_EXIST);
        assertThat(engine.read(2, "k7".getBytes(StandardCharsets.UTF_8), out)).isEqualTo(Status.OK);
        assertThat(engine.tableCounters()).doesNotContainKey(1L);
    }
}
