package io.ferrite.master.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ferrite.log.KeyRanges;
import io.ferrite.log.SegmentMemory;
import io.ferrite.log.SegmentWriter;
import io.ferrite.master.EngineContext;
import io.ferrite.master.ObjectManager;
import io.ferrite.master.ObjectResult;
import io.ferrite.master.RejectRules;
import io.ferrite.master.Status;
import io.ferrite.proto.KeyHash;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Replay is order-independent: a crashed master's history of writes and removes, cut into
 * segments that arrive in any order, leaves exactly the latest state of every key of the
 * partition (an object wins only with a higher version, a tombstone removes equal or lower
 * versions and is remembered), and nothing outside the partition.
 */
class PartitionReplayTest {
    private static final long TABLE = 7;
    private static final long SEED = Long.getLong("ferrite.seed", System.nanoTime());

    /** One master's log: entries in log order, cut into segments. */
    private static final class History {
        final List<ByteBuffer> segments = new ArrayList<>();
        final Map<String, String> latest = new HashMap<>();
        final Map<String, Long> versions = new HashMap<>();
        long nextVersion = 1;
        private byte[] buffer = new byte[64 << 10];
        private SegmentWriter writer = writer();

        private SegmentWriter writer() {
            return new SegmentWriter(SegmentMemory.contiguous(MemorySegment.ofArray(buffer)), buffer.length, null);
        }

        void write(String key, String value) {
            long version = nextVersion++;
            roomFor(key.length() + value.length() + 64);
            writer.appendObject(TABLE, bytes(key), 0, key.length(), bytes(value), 0, value.length(), version, 0);
            latest.put(key, value);
            versions.put(key, version);
        }

        void remove(String key) {
            Long version = versions.remove(key);
            if (version == null) {
                return;
            }
            roomFor(key.length() + 64);
            writer.appendTombstone(TABLE, bytes(key), 0, key.length(), version, segments.size());
            latest.remove(key);
        }

        private void roomFor(int bytes) {
            if (writer.position() + bytes > buffer.length) {
                cut();
            }
        }

        void cut() {
            segments.add(ByteBuffer.wrap(buffer, 0, writer.position()).slice());
            buffer = new byte[64 << 10];
            writer = writer();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static ObjectManager engine() {
        return new ObjectManager(new EngineContext().memoryBytes(64L << 20).segmentSizeBytes(2 << 20).conclude());
    }

    @Test
    void segmentsInAnyOrderLeaveTheLatestStateOfThePartition() throws Exception {
        Random random = new Random(SEED);
        for (int round = 0; round < 20; round++) {
            History history = new History();
            for (int i = 0; i < 3_000; i++) {
                String key = "k" + random.nextInt(300);
                if (random.nextInt(4) == 0) {
                    history.remove(key);
                } else {
                    history.write(key, "v" + i + "-" + "x".repeat(random.nextInt(200)));
                }
            }
            history.cut();
            List<ByteBuffer> order = new ArrayList<>(history.segments);
            Collections.shuffle(order, random);
            // The partition: the lower half of the hash space.
            KeyRanges ranges = KeyRanges.of(List.of(new KeyRanges.Range(TABLE, 0, Long.MAX_VALUE)));
            try (ObjectManager engine = engine()) {
                PartitionReplay replay = new PartitionReplay(engine, ranges);
                for (int s = 0; s < order.size(); s++) {
                    replay.replay(s, order.get(s).duplicate());
                }
                engine.raiseNextVersion(replay.highestVersion() + 1);
                ObjectResult out = new ObjectResult();
                for (int k = 0; k < 300; k++) {
                    String key = "k" + k;
                    boolean inPartition = ranges.contains(TABLE, KeyHash.hash(bytes(key)));
                    Status status = engine.read(TABLE, bytes(key), out);
                    String expected = inPartition ? history.latest.get(key) : null;
                    if (expected == null) {
                        assertThat(status).as("seed %d round %d: %s", SEED, round, key)
                                .isEqualTo(Status.OBJECT_DOESNT_EXIST);
                    } else {
                        assertThat(status).as("seed %d round %d: %s", SEED, round, key).isEqualTo(Status.OK);
                        assertThat(new String(out.valueCopy(), StandardCharsets.UTF_8))
                                .as("seed %d round %d: %s", SEED, round, key).isEqualTo(expected);
                        assertThat(out.version()).isEqualTo(history.versions.get(key));
                    }
                }
                // New versions start above everything recovered.
                assertThat(engine.write(TABLE, bytes("k0"), bytes("new"), RejectRules.NONE, out)).isEqualTo(Status.OK);
                assertThat(out.version()).as("seed %d", SEED).isGreaterThanOrEqualTo(history.nextVersion);
            }
        }
    }

    @Test
    void aDamagedEntryIsRefusedNotReplayed() throws Exception {
        History history = new History();
        history.write("a", "value");
        history.cut();
        ByteBuffer bytes = history.segments.getFirst();
        bytes.put(bytes.limit() - 1, (byte) (bytes.get(bytes.limit() - 1) ^ 1));
        try (ObjectManager engine = engine()) {
            PartitionReplay replay = new PartitionReplay(engine,
                    KeyRanges.of(List.of(new KeyRanges.Range(TABLE, 0, -1L))));
            assertThatThrownBy(() -> replay.replay(1, bytes)).isInstanceOf(PartitionReplay.BadEntriesException.class)
                    .hasMessageContaining("checksum");
        }
    }

    @Test
    void dropWhereForgetsAnAbandonedAttempt() throws Exception {
        History history = new History();
        for (int i = 0; i < 100; i++) {
            history.write("k" + i, "v" + i);
        }
        history.cut();
        KeyRanges all = KeyRanges.of(List.of(new KeyRanges.Range(TABLE, 0, -1L)));
        try (ObjectManager engine = engine()) {
            new PartitionReplay(engine, all).replay(1, history.segments.getFirst());
            assertThat(engine.stats().liveObjects()).isEqualTo(100);
            assertThat(engine.dropWhere(t -> t == TABLE, all::contains)).isEqualTo(100);
            assertThat(engine.stats().liveObjects()).isZero();
        }
    }
}
