package io.ferrite.log;

/**
 * Reads the payload of an {@link EntryType#OBJECT} entry in place.
 *
 * <pre>
 *   payload (after the entry framing of {@link EntryDescriptor}):
 *   +--------------+--------------+---------------+----------------+-------+---------+
 *   | tableId      | version      | timestamp     | keyLength      | key   | value   |
 *   | varint 1-10B | varint 1-10B | u32 LE, secs  | varint 1-3 B   |       | rest    |
 *   +--------------+--------------+---------------+----------------+-------+---------+
 * </pre>
 *
 * The value length is what remains of the payload after the key. A flyweight is owned by one
 * thread and re-pointed with {@link #wrap}; it allocates nothing.
 */
public final class ObjectFlyweight {
    /** Longest key, in bytes. */
    public static final int MAX_KEY_BYTES = 65_535;

    private SegmentMemory memory;
    private long tableId;
    private long version;
    private int timestamp;
    private long keyOffset;
    private int keyLength;
    private long valueOffset;
    private int valueLength;

    /** Bytes of payload an object with these fields takes. */
    public static int payloadLength(long tableId, long version, int keyLength, int valueLength) {
        return Varint.size(tableId) + Varint.size(version) + 4 + Varint.size(keyLength) + keyLength + valueLength;
    }

    /**
     * Points this flyweight at an object payload and parses its fields.
     *
     * @return false if the payload is not a well-formed object (fields overrun the payload)
     */
    public boolean wrap(SegmentMemory memory, long payloadOffset, int payloadLength) {
        this.memory = memory;
        long end = payloadOffset + payloadLength;
        long pos = payloadOffset;
        long value = 0;
        int shift = 0;
        // tableId
        for (;;) {
            if (pos >= end || shift > 63) {
                return false;
            }
            byte b = memory.getByte(pos++);
            value |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                break;
            }
            shift += 7;
        }
        tableId = value;
        value = 0;
        shift = 0;
        for (;;) {
            if (pos >= end || shift > 63) {
                return false;
            }
            byte b = memory.getByte(pos++);
            value |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                break;
            }
            shift += 7;
        }
        version = value;
        if (pos + 4 > end) {
            return false;
        }
        timestamp = memory.getInt(pos);
        pos += 4;
        value = 0;
        shift = 0;
        for (;;) {
            if (pos >= end || shift > 21) {
                return false;
            }
            byte b = memory.getByte(pos++);
            value |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                break;
            }
            shift += 7;
        }
        if (value < 1 || value > MAX_KEY_BYTES || pos + value > end) {
            return false;
        }
        keyLength = (int) value;
        keyOffset = pos;
        valueOffset = pos + keyLength;
        valueLength = (int) (end - valueOffset);
        return true;
    }

    public SegmentMemory memory() {
        return memory;
    }

    public long tableId() {
        return tableId;
    }

    public long version() {
        return version;
    }

    /** Write time, seconds since the Unix epoch (unsigned). */
    public long timestampSeconds() {
        return timestamp & 0xFFFF_FFFFL;
    }

    public long keyOffset() {
        return keyOffset;
    }

    public int keyLength() {
        return keyLength;
    }

    public long valueOffset() {
        return valueOffset;
    }

    public int valueLength() {
        return valueLength;
    }

    public boolean keyEquals(byte[] key, int offset, int length) {
        return length == keyLength && memory.equalsBytes(keyOffset, key, offset, length);
    }

    public byte[] key() {
        byte[] key = new byte[keyLength];
        memory.copyTo(keyOffset, key, 0, keyLength);
        return key;
    }

    public byte[] value() {
        byte[] value = new byte[valueLength];
        memory.copyTo(valueOffset, value, 0, valueLength);
        return value;
    }
}
