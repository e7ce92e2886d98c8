package io.ferrite.master;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.log.EntryDescriptor;
import io.ferrite.log.ObjectFlyweight;
import io.ferrite.master.log.LogSegment;
import io.ferrite.master.log.MasterLog;
import io.ferrite.master.memory.SegletPool;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A log reference is {@code seglet index << 16 | offset in seglet}, so an entry that starts at
 * the very beginning of pool seglet 0 would have reference 0, the hash table's and the engine's
 * "nothing here". The first segment's header sits there at first, but once the cleaner frees
 * that segment, seglet 0 can come back as a later seglet of another segment with an object
 * starting exactly on its boundary. This test steers the log there deterministically (the pool
 * hands out freed seglets last-in, first-out): objects at the start of every recycled seglet,
 * down to the lowest, must be found.
 */
class ObjectAtSegletZeroTest {
    private static final long TABLE = 8;
    private ObjectManager engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private static byte[] key(String prefix, int i) {
        return (prefix + i).getBytes(StandardCharsets.UTF_8);
    }

    /** A value length that makes an object of this key, at the next version, exactly {@code framedBytes} long, or -1. */
    private int valueLengthFor(byte[] key, int framedBytes) {
        long version = engine.safeVersion();
        for (int length = framedBytes; length >= 0; length--) {
            if (EntryDescriptor.framedLength(ObjectFlyweight.payloadLength(TABLE, version, key.length, length))
                    == framedBytes) {
                return length;
            }
        }
        return -1;
    }

    @Test
    void anObjectAtTheStartOfARecycledSegletIsFound() {
        engine = new ObjectManager(new EngineContext()
                .memoryBytes(16L << 20).segmentSizeBytes(2 << 20).maxValueBytes(128 << 10)
                .cleanerThreads(0)
                .lowMemorySeglets(250) // the balancer works whenever asked
                .conclude());
        MasterLog log = engine.log();
        ObjectResult out = new ObjectResult();
        LogSegment first = log.head();

        // Fill the first segment, then put a little more into the second so it has two seglets.
        int written = 0;
        while (log.head() == first) {
            assertThat(engine.write(TABLE, key("a", written++), new byte[1_000], RejectRules.NONE, out))
                    .isEqualTo(Status.OK);
        }
        int inFirst = written - 1;
        while (log.head().segletCount() < 2) {
            assertThat(engine.write(TABLE, key("a", written++), new byte[1_000], RejectRules.NONE, out))
                    .isEqualTo(Status.OK);
        }
        // Empty the first segment and clean it: its seglets go back to the pool, its first
        // seglet (the pool's lowest) deepest, so it comes back last and as a later seglet.
        int[] recycled = first.segletIndices();
        int lowest = Arrays.stream(recycled).min().orElseThrow();
        for (int i = 0; i < inFirst; i++) {
            assertThat(engine.remove(TABLE, key("a", i), RejectRules.NONE, out)).isEqualTo(Status.OK);
        }
        assertThat(engine.cleaner().cleanOnce()).as("the emptied segment is cleaned").isTrue();
        assertThat(engine.stats().cleaner().segletsFreed()).isPositive();

        // Now write pairs: a filler that ends exactly on a seglet boundary, then a probe that
        // starts on it, in a seglet freshly taken from the pool. Every probe must be found.
        Set<Integer> probed = new HashSet<>();
        for (int probe = 0; probe < 200 && !probed.contains(lowest); probe++) {
            LogSegment head = log.head();
            int position = head.lengthBytes();
            int toBoundary = SegletPool.SEGLET_SIZE_BYTES - position % SegletPool.SEGLET_SIZE_BYTES;
            if (toBoundary < 64) {
                toBoundary += SegletPool.SEGLET_SIZE_BYTES;
            }
            byte[] fillerKey = key("filler", probe);
            int fillerLength = valueLengthFor(fillerKey, toBoundary);
            assertThat(fillerLength).isNotNegative();
            assertThat(engine.write(TABLE, fillerKey, new byte[fillerLength], RejectRules.NONE, out)).isEqualTo(Status.OK);
            if (log.head() != head || head.lengthBytes() % SegletPool.SEGLET_SIZE_BYTES != 0) {
                continue; // the filler opened a new head; line up again
            }
            byte[] probeKey = key("probe", probe);
            int at = head.lengthBytes();
            assertThat(engine.write(TABLE, probeKey, new byte[] {42}, RejectRules.NONE, out)).isEqualTo(Status.OK);
            if (log.head() != head) {
                continue;
            }
            int seglet = head.segletIndices()[at / SegletPool.SEGLET_SIZE_BYTES];
            String where = "the object at the start of pool seglet " + seglet + " (offset " + at + " of segment "
                    + head.id() + ")";
            assertThat(engine.read(TABLE, probeKey, out)).as("read of " + where).isEqualTo(Status.OK);
            assertThat(out.valueCopy()).containsExactly(42);
            assertThat(engine.write(TABLE, probeKey, new byte[] {43}, RejectRules.IF_ABSENT, out))
                    .as("create-if-absent of " + where).isEqualTo(Status.OBJECT_EXISTS);
            probed.add(seglet);
        }
        assertThat(probed).as("probes reached the lowest recycled seglet, " + lowest).contains(lowest);
    }
}
