package io.ferrite.log;

/**
 * Payload layouts of the fixed-format entries that begin every segment.
 *
 * <pre>
 *   SEGMENT_HEADER payload (20 B):
 *   +----------------+----------------+-------------+
 *   | logId  u64     | segmentId u64  | capacity u32|
 *   +----------------+----------------+-------------+
 *
 *   LOG_DIGEST payload (4 + 8n B):
 *   +-----------+----------------+-----+----------------+
 *   | count u32 | segmentId u64  | ... | segmentId u64  |
 *   +-----------+----------------+-----+----------------+
 *
 *   SAFE_VERSION payload (8 B):
 *   +----------------+
 *   | version u64    |  no object of this log has reached this version
 *   +----------------+
 *
 *   TABLE_STATS payload (4 + 24n B):
 *   +-----------+----------------+----------------+----------------+-----+
 *   | count u32 | tableId u64    | bytes u64      | objects u64    | ... |
 *   +-----------+----------------+----------------+----------------+-----+
 * </pre>
 * All integers little-endian. Offsets below are relative to the payload.
 */
public final class MetadataDescriptors {
    public static final int SEGMENT_HEADER_PAYLOAD_BYTES = 20;
    public static final int HEADER_LOG_ID_OFFSET = 0;
    public static final int HEADER_SEGMENT_ID_OFFSET = 8;
    public static final int HEADER_CAPACITY_OFFSET = 16;

    public static final int DIGEST_COUNT_OFFSET = 0;
    public static final int DIGEST_IDS_OFFSET = 4;

    public static final int SAFE_VERSION_PAYLOAD_BYTES = 8;

    public static final int STATS_COUNT_OFFSET = 0;
    public static final int STATS_RECORDS_OFFSET = 4;
    public static final int STATS_RECORD_BYTES = 24;

    private MetadataDescriptors() {
    }

    public static int digestPayloadLength(int count) {
        return DIGEST_IDS_OFFSET + 8 * count;
    }

    public static int tableStatsPayloadLength(int count) {
        return STATS_RECORDS_OFFSET + STATS_RECORD_BYTES * count;
    }

    /** Reads the segment ids of a digest payload already validated by an iterator. */
    public static long[] readDigest(SegmentMemory memory, long payloadOffset) {
        int count = memory.getInt(payloadOffset + DIGEST_COUNT_OFFSET);
        long[] ids = new long[count];
        for (int i = 0; i < count; i++) {
            ids[i] = memory.getLong(payloadOffset + DIGEST_IDS_OFFSET + 8L * i);
        }
        return ids;
    }

    /** Checks a payload of {@code type} against its fixed layout; true for variable-format types. */
    static boolean wellFormed(EntryType type, SegmentMemory memory, long payloadOffset, int payloadLength) {
        return switch (type) {
            case SEGMENT_HEADER -> payloadLength == SEGMENT_HEADER_PAYLOAD_BYTES;
            case SAFE_VERSION -> payloadLength == SAFE_VERSION_PAYLOAD_BYTES;
            case LOG_DIGEST -> payloadLength >= DIGEST_IDS_OFFSET
                    && (payloadLength - DIGEST_IDS_OFFSET) % 8 == 0
                    && Integer.toUnsignedLong(memory.getInt(payloadOffset)) == (payloadLength - DIGEST_IDS_OFFSET) / 8;
            case TABLE_STATS -> payloadLength >= STATS_RECORDS_OFFSET
                    && (payloadLength - STATS_RECORDS_OFFSET) % STATS_RECORD_BYTES == 0
                    && Integer.toUnsignedLong(memory.getInt(payloadOffset))
                            == (payloadLength - STATS_RECORDS_OFFSET) / STATS_RECORD_BYTES;
            case OBJECT, TOMBSTONE -> true;
        };
    }
}
