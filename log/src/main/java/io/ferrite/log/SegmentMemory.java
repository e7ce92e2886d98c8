package io.ferrite.log;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The bytes of one segment: a chain of equally sized seglets that need not be contiguous in
 * memory, addressed by a logical offset from the start of the segment. A replica held as one
 * contiguous buffer is a chain of a single seglet.
 *
 * <pre>
 *   logical offset:  0            seglet            2*seglet          capacity
 *                    +-------------+-----------------+---------------+
 *                    |  seglet[0]  |    seglet[1]    |   seglet[2]   |
 *                    +-------------+-----------------+---------------+
 *   seglet[i] may live anywhere; an entry may straddle a seglet boundary.
 * </pre>
 *
 * <p>All multi-byte values are little-endian. Every access is bounds-checked by the
 * underlying {@link MemorySegment}s; callers that read untrusted bytes check lengths against
 * {@link #capacity()} first (the iterators do).
 */
public final class SegmentMemory {
    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment[] seglets;
    private final int segletShift;
    private final long segletMask;
    private int segletCount;
    private long capacity;

    /**
     * A segment that grows one seglet at a time, up to {@code maxSeglets}. Only its single
     * writer calls {@link #addSeglet}; readers reach new seglets only through references
     * published after the seglet was added.
     *
     * @param segletSizeBytes a power of two
     */
    public SegmentMemory(int maxSeglets, int segletSizeBytes) {
        if (Integer.bitCount(segletSizeBytes) != 1) {
            throw new IllegalArgumentException("seglet size must be a power of two: " + segletSizeBytes);
        }
        this.seglets = new MemorySegment[maxSeglets];
        this.segletShift = Integer.numberOfTrailingZeros(segletSizeBytes);
        this.segletMask = segletSizeBytes - 1L;
    }

    /**
     * @param seglets the seglets in order, each exactly {@code segletSizeBytes} long except
     *                possibly the last
     * @param segletSizeBytes a power of two
     */
    public SegmentMemory(MemorySegment[] seglets, int segletSizeBytes) {
        this(seglets.length, segletSizeBytes);
        for (MemorySegment seglet : seglets) {
            addSeglet(seglet);
        }
    }

    /** Appends a seglet at the end of this segment. */
    public void addSeglet(MemorySegment seglet) {
        if (segletCount == seglets.length) {
            throw new IllegalStateException("segment already has its " + seglets.length + " seglets");
        }
        if (segletCount > 0 && seglets[segletCount - 1].byteSize() != segletMask + 1) {
            throw new IllegalStateException("only the last seglet may be short");
        }
        if (seglet.byteSize() > segletMask + 1) {
            throw new IllegalArgumentException("seglet of " + seglet.byteSize() + " bytes exceeds " + (segletMask + 1));
        }
        seglets[segletCount++] = seglet;
        capacity += seglet.byteSize();
    }

    /** Most seglets this segment can hold. */
    public int maxSeglets() {
        return seglets.length;
    }

    public int segletSizeBytes() {
        return (int) (segletMask + 1);
    }

    /** One contiguous buffer as a segment (a replica, a test buffer). */
    public static SegmentMemory contiguous(MemorySegment bytes) {
        if (bytes.byteSize() > (1L << 30)) {
            throw new IllegalArgumentException("a contiguous segment is at most 1 GiB: " + bytes.byteSize());
        }
        int segletSize = 1;
        while (segletSize < bytes.byteSize()) {
            segletSize <<= 1;
        }
        return new SegmentMemory(new MemorySegment[] {bytes}, segletSize);
    }

    /** Bytes addressable in this segment. */
    public long capacity() {
        return capacity;
    }

    public int segletCount() {
        return segletCount;
    }

    public MemorySegment seglet(int index) {
        return seglets[index];
    }

    public int segletShift() {
        return segletShift;
    }

    /** True when {@code [offset, offset + length)} lies inside one seglet. */
    public boolean isContiguous(long offset, long length) {
        return length <= 0 || (offset >>> segletShift) == ((offset + length - 1) >>> segletShift);
    }

    public byte getByte(long offset) {
        return seglets[(int) (offset >>> segletShift)].get(ValueLayout.JAVA_BYTE, offset & segletMask);
    }

    public void putByte(long offset, byte value) {
        seglets[(int) (offset >>> segletShift)].set(ValueLayout.JAVA_BYTE, offset & segletMask, value);
    }

    public int getInt(long offset) {
        if (isContiguous(offset, 4)) {
            return seglets[(int) (offset >>> segletShift)].get(INT_LE, offset & segletMask);
        }
        return (int) getUnsigned(offset, 4);
    }

    public long getLong(long offset) {
        if (isContiguous(offset, 8)) {
            return seglets[(int) (offset >>> segletShift)].get(LONG_LE, offset & segletMask);
        }
        return getUnsigned(offset, 8);
    }

    /** Reads {@code width} (1..8) bytes as an unsigned little-endian number. */
    public long getUnsigned(long offset, int width) {
        long value = 0;
        for (int i = 0; i < width; i++) {
            value |= (getByte(offset + i) & 0xFFL) << (8 * i);
        }
        return value;
    }

    /** Writes the low {@code width} (1..8) bytes of {@code value}, little-endian. */
    public void putUnsigned(long offset, int width, long value) {
        for (int i = 0; i < width; i++) {
            putByte(offset + i, (byte) (value >>> (8 * i)));
        }
    }

    public void putInt(long offset, int value) {
        if (isContiguous(offset, 4)) {
            seglets[(int) (offset >>> segletShift)].set(INT_LE, offset & segletMask, value);
        } else {
            putUnsigned(offset, 4, value & 0xFFFF_FFFFL);
        }
    }

    public void putLong(long offset, long value) {
        if (isContiguous(offset, 8)) {
            seglets[(int) (offset >>> segletShift)].set(LONG_LE, offset & segletMask, value);
        } else {
            putUnsigned(offset, 8, value);
        }
    }

    /** Copies {@code length} bytes from {@code src} at {@code srcOffset} to this segment. */
    public void copyFrom(MemorySegment src, long srcOffset, long offset, long length) {
        while (length > 0) {
            int index = (int) (offset >>> segletShift);
            long within = offset & segletMask;
            long chunk = Math.min(length, seglets[index].byteSize() - within);
            MemorySegment.copy(src, srcOffset, seglets[index], within, chunk);
            srcOffset += chunk;
            offset += chunk;
            length -= chunk;
        }
    }

    public void copyFrom(byte[] src, int srcOffset, long offset, int length) {
        while (length > 0) {
            int index = (int) (offset >>> segletShift);
            long within = offset & segletMask;
            int chunk = (int) Math.min(length, seglets[index].byteSize() - within);
            MemorySegment.copy(src, srcOffset, seglets[index], ValueLayout.JAVA_BYTE, within, chunk);
            srcOffset += chunk;
            offset += chunk;
            length -= chunk;
        }
    }

    /** Copies {@code length} bytes of this segment at {@code offset} into {@code dst}. */
    public void copyTo(long offset, MemorySegment dst, long dstOffset, long length) {
        while (length > 0) {
            int index = (int) (offset >>> segletShift);
            long within = offset & segletMask;
            long chunk = Math.min(length, seglets[index].byteSize() - within);
            MemorySegment.copy(seglets[index], within, dst, dstOffset, chunk);
            dstOffset += chunk;
            offset += chunk;
            length -= chunk;
        }
    }

    public void copyTo(long offset, byte[] dst, int dstOffset, int length) {
        while (length > 0) {
            int index = (int) (offset >>> segletShift);
            long within = offset & segletMask;
            int chunk = (int) Math.min(length, seglets[index].byteSize() - within);
            MemorySegment.copy(seglets[index], ValueLayout.JAVA_BYTE, within, dst, dstOffset, chunk);
            dstOffset += chunk;
            offset += chunk;
            length -= chunk;
        }
    }

    /** Copies bytes between segments (possibly of different seglet layouts). */
    public void copyTo(long offset, SegmentMemory dst, long dstOffset, long length) {
        while (length > 0) {
            int index = (int) (offset >>> segletShift);
            long within = offset & segletMask;
            long chunk = Math.min(length, seglets[index].byteSize() - within);
            dst.copyFrom(seglets[index], within, dstOffset, chunk);
            dstOffset += chunk;
            offset += chunk;
            length -= chunk;
        }
    }

    /** Feeds {@code length} bytes at {@code offset} to {@code crc}. */
    public void updateCrc(CRC32C crc, long offset, long length) {
        while (length > 0) {
            int index = (int) (offset >>> segletShift);
            long within = offset & segletMask;
            long chunk = Math.min(length, seglets[index].byteSize() - within);
            crc.update(seglets[index].asSlice(within, chunk).asByteBuffer());
            offset += chunk;
            length -= chunk;
        }
    }

    /** Compares {@code length} bytes at {@code offset} with {@code other[otherOffset..]}. */
    public boolean equalsBytes(long offset, byte[] other, int otherOffset, int length) {
        if (isContiguous(offset, length)) {
            return equalsBytes(seglets[(int) (offset >>> segletShift)], offset & segletMask, other, otherOffset, length);
        }
        for (int i = 0; i < length; i++) {
            if (getByte(offset + i) != other[otherOffset + i]) {
                return false;
            }
        }
        return true;
    }

    private static final java.lang.invoke.VarHandle ARRAY_LONG_LE =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** Compares {@code length} bytes of {@code segment} at {@code offset} with {@code other[otherOffset..]}. */
    public static boolean equalsBytes(MemorySegment segment, long offset, byte[] other, int otherOffset, int length) {
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            if (segment.get(LONG_LE, offset + i) != (long) ARRAY_LONG_LE.get(other, otherOffset + i)) {
                return false;
            }
        }
        for (; i < length; i++) {
            if (segment.get(ValueLayout.JAVA_BYTE, offset + i) != other[otherOffset + i]) {
                return false;
            }
        }
        return true;
    }
}
