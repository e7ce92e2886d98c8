package io.ferrite.master;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.proto.KeyHash;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Limits (key and value sizes) and tablet ownership: refused with a status, and nothing written. */
class ObjectManagerLimitsTest {
    private static final long TABLE = 1;
    private ObjectManager engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] filled(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    /** What must not change when an operation is refused. */
    private record Footprint(long liveEntryBytes, long liveObjects, long tombstoneBytes, int headLength,
                             long headId, long safeVersion) {
    }

    private Footprint footprint() {
        EngineStats stats = engine.stats();
        return new Footprint(stats.liveEntryBytes(), stats.liveObjects(), stats.tombstoneBytes(),
                engine.log().head().lengthBytes(), engine.log().head().id(), engine.safeVersion());
    }

    /** Every kind of operation on {@code key} (and {@code value} for writes) gets {@code expected}. */
    private void everyOperationIs(Status expected, long tableId, byte[] key, byte[] value) {
        ObjectResult out = new ObjectResult();
        String what = "key of " + (key == null ? "null" : key.length + " bytes") + " in table " + tableId;
        assertThat(engine.write(tableId, key, value, RejectRules.NONE, out)).as("write, " + what).isEqualTo(expected);
        assertThat(engine.write(tableId, key, value, RejectRules.IF_ABSENT, out)).as("create, " + what).isEqualTo(expected);
        assertThat(engine.read(tableId, key, out)).as("read, " + what).isEqualTo(expected);
        assertThat(engine.remove(tableId, key, RejectRules.NONE, out)).as("remove, " + what).isEqualTo(expected);
        assertThat(engine.incrementLong(tableId, key, 1, RejectRules.NONE, out)).as("increment, " + what)
                .isEqualTo(expected);
        assertThat(engine.incrementDouble(tableId, key, 1.5, RejectRules.NONE, out)).as("double increment, " + what)
                .isEqualTo(expected);
    }

    @Test
    void badKeysAreRefusedAndNothingIsWritten() {
        engine = new ObjectManager(new EngineContext().memoryBytes(32L << 20).segmentSizeBytes(2 << 20).conclude());
        ObjectResult out = new ObjectResult();
        assertThat(engine.write(TABLE, bytes("existing"), bytes("v"), RejectRules.NONE, out)).isEqualTo(Status.OK);
        Footprint before = footprint();

        everyOperationIs(Status.INVALID_ARGUMENT, TABLE, new byte[0], bytes("v"));
        everyOperationIs(Status.INVALID_ARGUMENT, TABLE, null, bytes("v"));
        everyOperationIs(Status.INVALID_ARGUMENT, TABLE, filled(65_536, 1), bytes("v"));
        everyOperationIs(Status.INVALID_ARGUMENT, TABLE, filled(1 << 20, 2), bytes("v"));
        assertThat(engine.write(TABLE, bytes("existing"), null, RejectRules.NONE, out)).as("null value")
                .isEqualTo(Status.INVALID_ARGUMENT);
        assertThat(footprint()).isEqualTo(before);
        assertThat(engine.read(TABLE, bytes("existing"), out)).isEqualTo(Status.OK);
        assertThat(out.valueCopy()).isEqualTo(bytes("v"));
    }

    @Test
    void theLongestKeyWorks() {
        engine = new ObjectManager(new EngineContext().memoryBytes(32L << 20).segmentSizeBytes(2 << 20).conclude());
        ObjectResult out = new ObjectResult();
        byte[] longest = filled(65_535, 3);
        byte[] almost = Arrays.copyOf(longest, 65_535);
        almost[65_534] ^= 1; // same length, differs in the last byte only
        assertThat(engine.write(TABLE, longest, bytes("long"), RejectRules.NONE, out)).isEqualTo(Status.OK);
        assertThat(engine.write(TABLE, almost, bytes("almost"), RejectRules.NONE, out)).isEqualTo(Status.OK);
        assertThat(engine.read(TABLE, longest, out)).isEqualTo(Status.OK);
        assertThat(out.valueCopy()).isEqualTo(bytes("long"));
        assertThat(engine.read(TABLE, almost, out)).isEqualTo(Status.OK);
        assertThat(out.valueCopy()).isEqualTo(bytes("almost"));
        assertThat(engine.incrementLong(TABLE, filled(65_535, 4), 5, RejectRules.NONE, out)).isEqualTo(Status.OK);
        assertThat(engine.remove(TABLE, longest, RejectRules.NONE, out)).isEqualTo(Status.OK);
        assertThat(engine.read(TABLE, longest, out)).isEqualTo(Status.OBJECT_DOESNT_EXIST);
        assertThat(engine.read(TABLE, almost, out)).isEqualTo(Status.OK);
    }

    @Test
    void valuesOverTheLimitAreRefusedAndNothingIsWritten() {
        engine = new ObjectManager(new EngineContext().memoryBytes(32L << 20).segmentSizeBytes(2 << 20).conclude());
        ObjectResult out = new ObjectResult();
        int max = engine.context().maxValueBytes();
        assertThat(max).isEqualTo(1 << 20);
        Footprint before = footprint();
        assertThat(engine.write(TABLE, bytes("big"), new byte[max + 1], RejectRules.NONE, out))
                .isEqualTo(Status.INVALID_ARGUMENT);
        assertThat(engine.write(TABLE, bytes("big"), new byte[max + 1], RejectRules.IF_ABSENT, out))
                .isEqualTo(Status.INVALID_ARGUMENT);
        assertThat(footprint()).isEqualTo(before);
        assertThat(engine.read(TABLE, bytes("big"), out)).isEqualTo(Status.OBJECT_DOESNT_EXIST);

        byte[] largest = filled(max, 5);
        assertThat(engine.write(TABLE, bytes("big"), largest, RejectRules.NONE, out)).isEqualTo(Status.OK);
        assertThat(engine.read(TABLE, bytes("big"), out)).isEqualTo(Status.OK);
        assertThat(out.valueCopy()).isEqualTo(largest);
        assertThat(engine.write(TABLE, bytes("empty"), new byte[0], RejectRules.NONE, out)).isEqualTo(Status.OK);
        assertThat(engine.read(TABLE, bytes("empty"), out)).isEqualTo(Status.OK);
        assertThat(out.valueLength()).isZero();
    }

    @Test
    void aConfiguredValueLimitIsEnforced() {
        engine = new ObjectManager(new EngineContext().memoryBytes(32L << 20).segmentSizeBytes(2 << 20)
                .maxValueBytes(1_000).conclude());
        ObjectResult out = new ObjectResult();
        Footprint before = footprint();
        assertThat(engine.write(TABLE, bytes("k"), new byte[1_001], RejectRules.NONE, out)).isEqualTo(Status.INVALID_ARGUMENT);
        assertThat(footprint()).isEqualTo(before);
        assertThat(engine.write(TABLE, bytes("k"), new byte[1_000], RejectRules.NONE, out)).isEqualTo(Status.OK);
    }

    @Test
    void keysOutsideOwnedTabletsGetUnknownTabletAndNothingIsWritten() {
        List<long[]> asked = new CopyOnWriteArrayList<>();
        AtomicBoolean ownsTableTwo = new AtomicBoolean(true);
        // Table 9 is someone else's; table 10 only for even key hashes; table 2 until it moves away.
        TabletOwnership ownership = (tableId, keyHash) -> {
            asked.add(new long[] {tableId, keyHash});
            return switch ((int) tableId) {
                case 9 -> false;
                case 10 -> (keyHash & 1) == 0;
                case 2 -> ownsTableTwo.get();
                default -> true;
            };
        };
        engine = new ObjectManager(new EngineContext().memoryBytes(32L << 20).segmentSizeBytes(2 << 20)
                .tabletOwnership(ownership).conclude());
        ObjectResult out = new ObjectResult();
        Footprint before = footprint();
        everyOperationIs(Status.UNKNOWN_TABLET, 9, bytes("anything"), bytes("v"));
        assertThat(asked).allSatisfy(call -> assertThat(call[1]).isEqualTo(KeyHash.hash(bytes("anything"))));
        byte[] odd = null;
        byte[] even = null;
        for (int i = 0; odd == null || even == null; i++) {
            byte[] key = bytes("key-" + i);
            if ((KeyHash.hash(key) & 1) == 0) {
                even = key;
            } else {
                odd = key;
            }
        }
        everyOperationIs(Status.UNKNOWN_TABLET, 10, odd, bytes("v"));
        assertThat(footprint()).isEqualTo(before);

        assertThat(engine.write(10, even, bytes("mine"), RejectRules.NONE, out)).isEqualTo(Status.OK);
        assertThat(engine.read(10, even, out)).isEqualTo(Status.OK);
        assertThat(engine.write(2, even, bytes("moving"), RejectRules.NONE, out)).isEqualTo(Status.OK);
        ownsTableTwo.set(false);
        everyOperationIs(Status.UNKNOWN_TABLET, 2, even, bytes("v"));
        ownsTableTwo.set(true);
        assertThat(engine.read(2, even, out)).isEqualTo(Status.OK);
        assertThat(out.valueCopy()).isEqualTo(bytes("moving"));
    }
}
