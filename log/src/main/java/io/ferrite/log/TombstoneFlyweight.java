package io.ferrite.log;

/**
 * Reads the payload of a {@link EntryType#TOMBSTONE} entry in place.
 *
 * <pre>
 *   payload:
 *   +--------------+----------------+----------------+-----------------------+
 *   | tableId      | objectVersion  | segmentId      | key                   |
 *   | varint 1-10B | varint 1-10B   | varint 1-10B   | rest of the payload   |
 *   +--------------+----------------+----------------+-----------------------+
 *   objectVersion: version of the object this tombstone kills
 *   segmentId:     segment that held that object; the tombstone may be dropped once that
 *                  segment is no longer part of the log
 * </pre>
 */
public final class TombstoneFlyweight {
    private SegmentMemory memory;
    private long tableId;
    private long objectVersion;
    private long segmentId;
    private long keyOffset;
    private int keyLength;
    private long pos;

    public static int payloadLength(long tableId, long objectVersion, long segmentId, int keyLength) {
        return Varint.size(tableId) + Varint.size(objectVersion) + Varint.size(segmentId) + keyLength;
    }

    /** @return false if the payload is not a well-formed tombstone */
    public boolean wrap(SegmentMemory memory, long payloadOffset, int payloadLength) {
        this.memory = memory;
        long end = payloadOffset + payloadLength;
        pos = payloadOffset;
        long t = readVarint(end);
        if (pos < 0) {
            return false;
        }
        long v = readVarint(end);
        if (pos < 0) {
            return false;
        }
        long s = readVarint(end);
        if (pos < 0) {
            return false;
        }
        long keyBytes = end - pos;
        if (keyBytes < 1 || keyBytes > ObjectFlyweight.MAX_KEY_BYTES) {
            return false;
        }
        tableId = t;
        objectVersion = v;
        segmentId = s;
        keyOffset = pos;
        keyLength = (int) keyBytes;
        return true;
    }

    private long readVarint(long end) {
        long value = 0;
        int shift = 0;
        for (;;) {
            if (pos >= end || shift > 63) {
                pos = -1;
                return 0;
            }
            byte b = memory.getByte(pos++);
            value |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return value;
            }
            shift += 7;
        }
    }

    public long tableId() {
        return tableId;
    }

    public long objectVersion() {
        return objectVersion;
    }

    public long segmentId() {
        return segmentId;
    }

    public long keyOffset() {
        return keyOffset;
    }

    public int keyLength() {
        return keyLength;
    }

    public byte[] key() {
        byte[] key = new byte[keyLength];
        memory.copyTo(keyOffset, key, 0, keyLength);
        return key;
    }
}
