package io.ferrite.log;

/** Unsigned LEB128 variable-length integers: seven bits per byte, high bit set on all but the last. */
public final class Varint {
    /** Most bytes a 64-bit varint takes. */
    public static final int MAX_BYTES = 10;

    private Varint() {
    }

    public static int size(long value) {
        int bytes = 1;
        while ((value & ~0x7FL) != 0) {
            value >>>= 7;
            bytes++;
        }
        return bytes;
    }

    /** Writes {@code value} at {@code offset}; returns the offset after it. */
    public static int write(byte[] dst, int offset, long value) {
        while ((value & ~0x7FL) != 0) {
            dst[offset++] = (byte) ((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        dst[offset++] = (byte) value;
        return offset;
    }
}
