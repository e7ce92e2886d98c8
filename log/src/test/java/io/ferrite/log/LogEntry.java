package io.ferrite.log;

import java.util.Arrays;

/**
 * What a test writes to a segment and expects to read back: one record per entry type, with
 * value equality (arrays compared by content) so decoded entries can be compared with
 * {@code isEqualTo}.
 */
sealed interface LogEntry {
    /** Appends this entry; returns what the writer returned. */
    long appendTo(SegmentWriter writer);

    /** Decodes the entry the iterator stands on (after {@link SegmentIterator#ENTRY}). */
    static LogEntry read(SegmentIterator iterator) {
        SegmentMemory memory = iterator.memory();
        long payload = iterator.payloadOffset();
        return switch (iterator.type()) {
            case SEGMENT_HEADER -> new Header(
                    memory.getLong(payload + MetadataDescriptors.HEADER_LOG_ID_OFFSET),
                    memory.getLong(payload + MetadataDescriptors.HEADER_SEGMENT_ID_OFFSET),
                    memory.getInt(payload + MetadataDescriptors.HEADER_CAPACITY_OFFSET));
            case LOG_DIGEST -> new Digest(MetadataDescriptors.readDigest(memory, payload));
            case SAFE_VERSION -> new SafeVersion(memory.getLong(payload));
            case TABLE_STATS -> Stats.read(memory, payload);
            case OBJECT -> {
                ObjectFlyweight object = iterator.object();
                yield new ObjectEntry(object.tableId(), object.version(), object.timestampSeconds(),
                        object.key(), object.value());
            }
            case TOMBSTONE -> {
                TombstoneFlyweight tombstone = iterator.tombstone();
                yield new Tombstone(tombstone.tableId(), tombstone.objectVersion(), tombstone.segmentId(),
                        tombstone.key());
            }
        };
    }

    record Header(long logId, long segmentId, int capacity) implements LogEntry {
        @Override
        public long appendTo(SegmentWriter writer) {
            return writer.appendSegmentHeader(logId, segmentId, capacity);
        }
    }

    record Digest(long[] segmentIds) implements LogEntry {
        @Override
        public long appendTo(SegmentWriter writer) {
            return writer.appendLogDigest(segmentIds, segmentIds.length);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Digest other && Arrays.equals(segmentIds, other.segmentIds);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(segmentIds);
        }

        @Override
        public String toString() {
            return "Digest" + Arrays.toString(segmentIds);
        }
    }

    record SafeVersion(long version) implements LogEntry {
        @Override
        public long appendTo(SegmentWriter writer) {
            return writer.appendSafeVersion(version);
        }
    }

    /** Parallel arrays of per-table statistics, as {@link SegmentWriter#appendTableStats} takes them. */
    record Stats(long[] tableIds, long[] bytes, long[] objects) implements LogEntry {
        static Stats read(SegmentMemory memory, long payload) {
            int count = memory.getInt(payload + MetadataDescriptors.STATS_COUNT_OFFSET);
            long[] tableIds = new long[count];
            long[] bytes = new long[count];
            long[] objects = new long[count];
            for (int i = 0; i < count; i++) {
                long base = payload + MetadataDescriptors.STATS_RECORDS_OFFSET
                        + (long) MetadataDescriptors.STATS_RECORD_BYTES * i;
                tableIds[i] = memory.getLong(base);
                bytes[i] = memory.getLong(base + 8);
                objects[i] = memory.getLong(base + 16);
            }
            return new Stats(tableIds, bytes, objects);
        }

        @Override
        public long appendTo(SegmentWriter writer) {
            return writer.appendTableStats(tableIds, bytes, objects, tableIds.length);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Stats other && Arrays.equals(tableIds, other.tableIds)
                    && Arrays.equals(bytes, other.bytes) && Arrays.equals(objects, other.objects);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * Arrays.hashCode(tableIds) + Arrays.hashCode(bytes)) + Arrays.hashCode(objects);
        }

        @Override
        public String toString() {
            return "Stats[tableIds=" + Arrays.toString(tableIds) + ", bytes=" + Arrays.toString(bytes)
                    + ", objects=" + Arrays.toString(objects) + "]";
        }
    }

    /** @param timestampSeconds unsigned 32-bit, as {@link ObjectFlyweight#timestampSeconds()} reads it */
    record ObjectEntry(long tableId, long version, long timestampSeconds, byte[] key, byte[] value)
            implements LogEntry {
        @Override
        public long appendTo(SegmentWriter writer) {
            return writer.appendObject(tableId, key, 0, key.length, value, 0, value.length, version,
                    (int) timestampSeconds);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ObjectEntry other && tableId == other.tableId && version == other.version
                    && timestampSeconds == other.timestampSeconds
                    && Arrays.equals(key, other.key) && Arrays.equals(value, other.value);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(tableId) ^ Long.hashCode(version) ^ Arrays.hashCode(key);
        }

        @Override
        public String toString() {
            return "ObjectEntry[tableId=" + Long.toUnsignedString(tableId) + ", version=" + Long.toUnsignedString(version)
                    + ", timestampSeconds=" + timestampSeconds + ", key=" + describe(key)
                    + ", value=" + describe(value) + "]";
        }
    }

    record Tombstone(long tableId, long objectVersion, long segmentId, byte[] key) implements LogEntry {
        @Override
        public long appendTo(SegmentWriter writer) {
            return writer.appendTombstone(tableId, key, 0, key.length, objectVersion, segmentId);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tombstone other && tableId == other.tableId
                    && objectVersion == other.objectVersion && segmentId == other.segmentId
                    && Arrays.equals(key, other.key);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(tableId) ^ Long.hashCode(objectVersion) ^ Arrays.hashCode(key);
        }

        @Override
        public String toString() {
            return "Tombstone[tableId=" + Long.toUnsignedString(tableId)
                    + ", objectVersion=" + Long.toUnsignedString(objectVersion)
                    + ", segmentId=" + Long.toUnsignedString(segmentId) + ", key=" + describe(key) + "]";
        }
    }

    /** Length and a content hash: enough to tell byte arrays apart in a failure message. */
    private static String describe(byte[] bytes) {
        return bytes.length + "B#" + Integer.toHexString(Arrays.hashCode(bytes));
    }
}
