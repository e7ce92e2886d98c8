package io.ferrite.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Varints and the object and tombstone flyweights that parse them. */
class FlyweightTest {
    private static final long[] EXTREMES = {
        0, 1, 127, 128, 16_383, 16_384, 1L << 35, (1L << 56) - 1, 1L << 56,
        Long.MAX_VALUE, Long.MIN_VALUE, -1L, -2L
    };

    @Example
    void varintSizes() {
        assertThat(Varint.size(0)).isEqualTo(1);
        assertThat(Varint.size(127)).isEqualTo(1);
        assertThat(Varint.size(128)).isEqualTo(2);
        assertThat(Varint.size(16_383)).isEqualTo(2);
        assertThat(Varint.size(16_384)).isEqualTo(3);
        assertThat(Varint.size(Long.MAX_VALUE)).isEqualTo(9);
        assertThat(Varint.size(Long.MIN_VALUE)).isEqualTo(Varint.MAX_BYTES);
        assertThat(Varint.size(-1L)).isEqualTo(Varint.MAX_BYTES);
    }

    @Example
    void varintEncodingIsUnsignedLeb128() {
        assertThat(encode(0)).isEqualTo("00");
        assertThat(encode(300)).isEqualTo("ac02");
        assertThat(encode(Long.MAX_VALUE)).isEqualTo("ffffffffffffffff7f");
        assertThat(encode(-1L)).isEqualTo("ffffffffffffffffff01");
        assertThat(encode(Long.MIN_VALUE)).isEqualTo("80808080808080808001");
    }

    @Example
    void extremeTableIdsVersionsAndTimestampsRoundTripThroughAnObject() {
        for (long tableId : EXTREMES) {
            for (long version : EXTREMES) {
                assertObjectRoundTrip(tableId, version, -1, new byte[] {1}, new byte[0]);
                assertObjectRoundTrip(tableId, version, Integer.MIN_VALUE, new byte[] {1, 2}, new byte[] {3});
            }
        }
    }

    @Example
    void largestKeyRoundTrips() {
        byte[] key = TestSegments.randomBytes(1, ObjectFlyweight.MAX_KEY_BYTES);
        assertObjectRoundTrip(-1L, Long.MAX_VALUE, 0, key, TestSegments.randomBytes(2, 1000));
        assertTombstoneRoundTrip(Long.MAX_VALUE, -1L, Long.MIN_VALUE, key);
    }

    @Example
    void extremeIdsRoundTripThroughATombstone() {
        for (long tableId : EXTREMES) {
            for (long objectVersion : EXTREMES) {
                for (long segmentId : new long[] {0, Long.MAX_VALUE, -1L}) {
                    assertTombstoneRoundTrip(tableId, objectVersion, segmentId, new byte[] {7, 8, 9});
                }
            }
        }
    }

    @Property(tries = 300)
    void anyObjectRoundTrips(@ForAll long tableId, @ForAll long version, @ForAll int timestamp,
                             @ForAll @Size(min = 1, max = 300) byte[] key,
                             @ForAll @Size(max = 2000) byte[] value) {
        assertObjectRoundTrip(tableId, version, timestamp, key, value);
    }

    @Property(tries = 300)
    void anyTombstoneRoundTrips(@ForAll long tableId, @ForAll long objectVersion, @ForAll long segmentId,
                                @ForAll @Size(min = 1, max = 300) byte[] key) {
        assertTombstoneRoundTrip(tableId, objectVersion, segmentId, key);
    }

    /** Garbage handed to the flyweights is rejected or parsed into fields inside the payload; never an exception. */
    @Property(tries = 1000)
    void flyweightsParseGarbageWithinItsBounds(@ForAll @Size(max = 64) byte[] garbage,
                                               @ForAll @IntRange(max = 16) int before,
                                               @ForAll @IntRange(max = 16) int after) {
        SegmentMemory memory = SegmentMemory.contiguous(MemorySegment.ofArray(new byte[before + garbage.length + after]));
        memory.copyFrom(garbage, 0, before, garbage.length);
        long end = before + garbage.length;

        ObjectFlyweight object = new ObjectFlyweight();
        if (object.wrap(memory, before, garbage.length)) {
            assertThat(object.keyLength()).isBetween(1, ObjectFlyweight.MAX_KEY_BYTES);
            assertThat(object.keyOffset()).isGreaterThan(before);
            assertThat(object.valueOffset()).isEqualTo(object.keyOffset() + object.keyLength());
            assertThat(object.valueLength()).isNotNegative();
            assertThat(object.valueOffset() + object.valueLength()).isEqualTo(end);
        }
        TombstoneFlyweight tombstone = new TombstoneFlyweight();
        if (tombstone.wrap(memory, before, garbage.length)) {
            assertThat(tombstone.keyLength()).isBetween(1, ObjectFlyweight.MAX_KEY_BYTES);
            assertThat(tombstone.keyOffset()).isGreaterThanOrEqualTo(before + 3L);
            assertThat(tombstone.keyOffset() + tombstone.keyLength()).isEqualTo(end);
        }
    }

    private static void assertObjectRoundTrip(long tableId, long version, int timestamp, byte[] key, byte[] value) {
        SegmentMemory memory = heapSegment();
        SegmentWriter writer = new SegmentWriter(memory, (int) memory.capacity(), null);
        long at = writer.appendObject(tableId, key, 0, key.length, value, 0, value.length, version, timestamp);
        assertThat(at).isZero();
        int payloadLength = ObjectFlyweight.payloadLength(tableId, version, key.length, value.length);
        assertThat(writer.position()).isEqualTo(EntryDescriptor.framedLength(payloadLength));

        ObjectFlyweight object = new ObjectFlyweight();
        assertThat(object.wrap(memory, writer.position() - payloadLength, payloadLength)).isTrue();
        assertThat(object.tableId()).isEqualTo(tableId);
        assertThat(object.version()).isEqualTo(version);
        assertThat(object.timestampSeconds()).isEqualTo(Integer.toUnsignedLong(timestamp));
        assertThat(object.key()).isEqualTo(key);
        assertThat(object.value()).isEqualTo(value);
    }

    private static void assertTombstoneRoundTrip(long tableId, long objectVersion, long segmentId, byte[] key) {
        SegmentMemory memory = heapSegment();
        SegmentWriter writer = new SegmentWriter(memory, (int) memory.capacity(), null);
        assertThat(writer.appendTombstone(tableId, key, 0, key.length, objectVersion, segmentId)).isZero();
        int payloadLength = TombstoneFlyweight.payloadLength(tableId, objectVersion, segmentId, key.length);
        assertThat(writer.position()).isEqualTo(EntryDescriptor.framedLength(payloadLength));

        TombstoneFlyweight tombstone = new TombstoneFlyweight();
        assertThat(tombstone.wrap(memory, writer.position() - payloadLength, payloadLength)).isTrue();
        assertThat(tombstone.tableId()).isEqualTo(tableId);
        assertThat(tombstone.objectVersion()).isEqualTo(objectVersion);
        assertThat(tombstone.segmentId()).isEqualTo(segmentId);
        assertThat(tombstone.key()).isEqualTo(key);
    }

    private static SegmentMemory heapSegment() {
        return SegmentMemory.contiguous(MemorySegment.ofArray(new byte[128 * 1024]));
    }

    private static String encode(long value) {
        byte[] bytes = new byte[Varint.MAX_BYTES];
        int end = Varint.write(bytes, 0, value);
        assertThat(end).isEqualTo(Varint.size(value));
        return HexFormat.of().formatHex(bytes, 0, end);
    }
}
