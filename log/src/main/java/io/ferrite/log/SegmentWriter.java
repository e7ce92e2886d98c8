package io.ferrite.log;

import java.lang.foreign.MemorySegment;
import java.util.zip.CRC32C;

/**
 * Appends framed entries to a {@link SegmentMemory}, growing it one seglet at a time from a
 * {@link SegletSource}, and keeps the running certificate checksum. Owned by a single thread
 * (a master's log head, a cleaner's survivor, a test); allocates nothing per entry.
 *
 * <p>Append methods return the offset of the new entry, or {@link #FULL} when the segment has
 * reached its capacity, or {@link #NO_MEMORY} when no seglet could be had. A failed append
 * leaves the segment unchanged (except for seglets already added to it).
 */
public final class SegmentWriter {
    /** The entry would pass the segment's capacity: open a new segment. */
    public static final long FULL = -1;
    /** The seglet source is out of memory. */
    public static final long NO_MEMORY = -2;

    /** Supplies seglets as the segment grows. */
    @FunctionalInterface
    public interface SegletSource {
        /** @return a fresh seglet, or {@code null} when memory is exhausted */
        MemorySegment allocateSeglet();
    }

    private final SegmentMemory memory;
    private final int capacityBytes;
    private final SegletSource source;
    private final CRC32C certificateCrc = new CRC32C();
    private final CRC32C entryCrc = new CRC32C();
    private final byte[] scratch = new byte[64];
    private int position;

    /**
     * @param memory        the segment's bytes (may start with no seglets)
     * @param capacityBytes the most bytes this segment may hold
     * @param source        where new seglets come from; may be {@code null} for fixed memory
     */
    public SegmentWriter(SegmentMemory memory, int capacityBytes, SegletSource source) {
        this.memory = memory;
        this.capacityBytes = capacityBytes;
        this.source = source;
    }

    public SegmentMemory memory() {
        return memory;
    }

    /** Bytes appended so far. */
    public int position() {
        return position;
    }

    public int capacityBytes() {
        return capacityBytes;
    }

    /** The certificate of everything appended so far. */
    public SegmentCertificate certificate() {
        return new SegmentCertificate(position, (int) certificateCrc.getValue());
    }

    /** Current certificate checksum, without allocating. */
    public int certificateChecksum() {
        return (int) certificateCrc.getValue();
    }

    /** @return 0 when {@code framedLength} more bytes fit, else {@link #FULL} or {@link #NO_MEMORY} */
    public long ensureSpace(int framedLength) {
        long end = (long) position + framedLength;
        if (end > capacityBytes) {
            return FULL;
        }
        while (memory.capacity() < end) {
            boolean lastSegletShort = memory.capacity() % memory.segletSizeBytes() != 0;
            if (memory.segletCount() == memory.maxSeglets() || source == null || lastSegletShort) {
                return FULL;
            }
            MemorySegment seglet = source.allocateSeglet();
            if (seglet == null) {
                return NO_MEMORY;
            }
            memory.addSeglet(seglet);
        }
        return 0;
    }

    private int writeFrame(EntryType type, int payloadLength) {
        int content = EntryDescriptor.CRC_BYTES + payloadLength;
        int width = EntryDescriptor.lengthWidth(content);
        scratch[0] = EntryDescriptor.headerByte(type, width);
        for (int i = 0; i < width; i++) {
            scratch[1 + i] = (byte) (content >>> (8 * i));
        }
        return 1 + width;
    }

    private void putCrc(int frameBytes) {
        int crc = (int) entryCrc.getValue();
        scratch[frameBytes] = (byte) crc;
        scratch[frameBytes + 1] = (byte) (crc >>> 8);
        scratch[frameBytes + 2] = (byte) (crc >>> 16);
        scratch[frameBytes + 3] = (byte) (crc >>> 24);
    }

    /** Appends an object entry; see {@link ObjectFlyweight} for the layout. */
    public long appendObject(long tableId, byte[] key, int keyOffset, int keyLength,
                             byte[] value, int valueOffset, int valueLength, long version, int timestampSeconds) {
        int payload = ObjectFlyweight.payloadLength(tableId, version, keyLength, valueLength);
        int framed = EntryDescriptor.framedLength(payload);
        long space = ensureSpace(framed);
        if (space != 0) {
            return space;
        }
        int frame = writeFrame(EntryType.OBJECT, payload);
        int fieldsStart = frame + EntryDescriptor.CRC_BYTES;
        int p = Varint.write(scratch, fieldsStart, tableId);
        p = Varint.write(scratch, p, version);
        scratch[p++] = (byte) timestampSeconds;
        scratch[p++] = (byte) (timestampSeconds >>> 8);
        scratch[p++] = (byte) (timestampSeconds >>> 16);
        scratch[p++] = (byte) (timestampSeconds >>> 24);
        p = Varint.write(scratch, p, keyLength);
        entryCrc.reset();
        entryCrc.update(scratch, 0, frame);
        entryCrc.update(scratch, fieldsStart, p - fieldsStart);
        entryCrc.update(key, keyOffset, keyLength);
        entryCrc.update(value, valueOffset, valueLength);
        putCrc(frame);
        long offset = position;
        memory.copyFrom(scratch, 0, offset, p);
        memory.copyFrom(key, keyOffset, offset + p, keyLength);
        memory.copyFrom(value, valueOffset, offset + p + keyLength, valueLength);
        certificateCrc.update(scratch, 0, frame);
        position += framed;
        return offset;
    }

    /** Appends a tombstone entry; see {@link TombstoneFlyweight} for the layout. */
    public long appendTombstone(long tableId, byte[] key, int keyOffset, int keyLength, long objectVersion, long segmentId) {
        int payload = TombstoneFlyweight.payloadLength(tableId, objectVersion, segmentId, keyLength);
        int framed = EntryDescriptor.framedLength(payload);
        long space = ensureSpace(framed);
        if (space != 0) {
            return space;
        }
        int frame = writeFrame(EntryType.TOMBSTONE, payload);
        int fieldsStart = frame + EntryDescriptor.CRC_BYTES;
        int p = Varint.write(scratch, fieldsStart, tableId);
        p = Varint.write(scratch, p, objectVersion);
        p = Varint.write(scratch, p, segmentId);
        entryCrc.reset();
        entryCrc.update(scratch, 0, frame);
        entryCrc.update(scratch, fieldsStart, p - fieldsStart);
        entryCrc.update(key, keyOffset, keyLength);
        putCrc(frame);
        long offset = position;
        memory.copyFrom(scratch, 0, offset, p);
        memory.copyFrom(key, keyOffset, offset + p, keyLength);
        certificateCrc.update(scratch, 0, frame);
        position += framed;
        return offset;
    }

    /** Appends an entry of {@code type} whose payload is {@code payload[0..payloadLength)}. */
    public long appendEntry(EntryType type, byte[] payload, int payloadLength) {
        int framed = EntryDescriptor.framedLength(payloadLength);
        long space = ensureSpace(framed);
        if (space != 0) {
            return space;
        }
        int frame = writeFrame(type, payloadLength);
        entryCrc.reset();
        entryCrc.update(scratch, 0, frame);
        entryCrc.update(payload, 0, payloadLength);
        putCrc(frame);
        long offset = position;
        memory.copyFrom(scratch, 0, offset, frame + EntryDescriptor.CRC_BYTES);
        memory.copyFrom(payload, 0, offset + frame + EntryDescriptor.CRC_BYTES, payloadLength);
        certificateCrc.update(scratch, 0, frame);
        position += framed;
        return offset;
    }

    /**
     * Copies a whole framed entry verbatim from another segment (the cleaner's relocation).
     * Its checksum stays valid because it covers no location.
     */
    public long appendCopy(SegmentMemory source, long entryOffset, int framedLength) {
        long space = ensureSpace(framedLength);
        if (space != 0) {
            return space;
        }
        byte header = source.getByte(entryOffset);
        int frame = 1 + EntryDescriptor.lengthWidthOf(header);
        for (int i = 0; i < frame; i++) {
            scratch[i] = source.getByte(entryOffset + i);
        }
        long offset = position;
        source.copyTo(entryOffset, memory, offset, framedLength);
        certificateCrc.update(scratch, 0, frame);
        position += framedLength;
        return offset;
    }

    /** Appends the segment header entry (first entry of every segment). */
    public long appendSegmentHeader(long logId, long segmentId, int capacity) {
        byte[] payload = new byte[MetadataDescriptors.SEGMENT_HEADER_PAYLOAD_BYTES];
        MemorySegment p = MemorySegment.ofArray(payload);
        p.set(SegmentMemory.LONG_LE, MetadataDescriptors.HEADER_LOG_ID_OFFSET, logId);
        p.set(SegmentMemory.LONG_LE, MetadataDescriptors.HEADER_SEGMENT_ID_OFFSET, segmentId);
        p.set(SegmentMemory.INT_LE, MetadataDescriptors.HEADER_CAPACITY_OFFSET, capacity);
        return appendEntry(EntryType.SEGMENT_HEADER, payload, payload.length);
    }

    /** Appends a log digest naming {@code segmentIds[0..count)}. */
    public long appendLogDigest(long[] segmentIds, int count) {
        byte[] payload = new byte[MetadataDescriptors.digestPayloadLength(count)];
        MemorySegment p = MemorySegment.ofArray(payload);
        p.set(SegmentMemory.INT_LE, MetadataDescriptors.DIGEST_COUNT_OFFSET, count);
        for (int i = 0; i < count; i++) {
            p.set(SegmentMemory.LONG_LE, MetadataDescriptors.DIGEST_IDS_OFFSET + 8L * i, segmentIds[i]);
        }
        return appendEntry(EntryType.LOG_DIGEST, payload, payload.length);
    }

    public long appendSafeVersion(long safeVersion) {
        byte[] payload = new byte[MetadataDescriptors.SAFE_VERSION_PAYLOAD_BYTES];
        MemorySegment.ofArray(payload).set(SegmentMemory.LONG_LE, 0, safeVersion);
        return appendEntry(EntryType.SAFE_VERSION, payload, payload.length);
    }

    /** Appends table statistics: parallel arrays of {@code count} records. */
    public long appendTableStats(long[] tableIds, long[] bytes, long[] objects, int count) {
        byte[] payload = new byte[MetadataDescriptors.tableStatsPayloadLength(count)];
        MemorySegment p = MemorySegment.ofArray(payload);
        p.set(SegmentMemory.INT_LE, MetadataDescriptors.STATS_COUNT_OFFSET, count);
        for (int i = 0; i < count; i++) {
            long base = MetadataDescriptors.STATS_RECORDS_OFFSET + (long) MetadataDescriptors.STATS_RECORD_BYTES * i;
            p.set(SegmentMemory.LONG_LE, base, tableIds[i]);
            p.set(SegmentMemory.LONG_LE, base + 8, bytes[i]);
            p.set(SegmentMemory.LONG_LE, base + 16, objects[i]);
        }
        return appendEntry(EntryType.TABLE_STATS, payload, payload.length);
    }
}
