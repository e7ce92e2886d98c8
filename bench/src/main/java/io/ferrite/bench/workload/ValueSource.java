package io.ferrite.bench.workload;

/**
 * Values of the workloads. One array per size, made on first use and reused (the engine's write
 * takes the value's whole array). Byte {@code i} of a value of {@code n} bytes is a pattern of
 * {@code (n, i)}, except the first eight bytes, which hold the key id (little-endian), so a
 * read can check that a key holds its own latest value.
 */
final class ValueSource {
    static final int STAMP_BYTES = 8;
    private final byte[][] bySize;

    ValueSource(int maxValueBytes) {
        bySize = new byte[maxValueBytes + 1][];
    }

    /** The value of {@code size} bytes for {@code keyId}; valid until the next call. */
    byte[] value(long keyId, int size) {
        byte[] value = bySize[size];
        if (value == null) {
            value = new byte[size];
            for (int i = 0; i < size; i++) {
                value[i] = patternByte(size, i);
            }
            bySize[size] = value;
        }
        int stamp = Math.min(STAMP_BYTES, size);
        for (int i = 0; i < stamp; i++) {
            value[i] = (byte) (keyId >>> (8 * i));
        }
        return value;
    }

    /**
     * Checks a value read back.
     *
     * @return null if {@code buffer[0..length)} is the value of {@code expectedSize} bytes for
     *         {@code keyId}, else what differs
     */
    static String check(long keyId, int expectedSize, byte[] buffer, int length) {
        if (length != expectedSize) {
            return "value length " + length + ", expected " + expectedSize;
        }
        int stamp = Math.min(STAMP_BYTES, length);
        for (int i = 0; i < stamp; i++) {
            if (buffer[i] != (byte) (keyId >>> (8 * i))) {
                return "value byte " + i + " does not carry the key id (holds another key's value?)";
            }
        }
        for (int i = stamp; i < length; i++) {
            if (buffer[i] != patternByte(length, i)) {
                return "value byte " + i + " is " + buffer[i] + ", expected " + patternByte(length, i);
            }
        }
        return null;
    }

    private static byte patternByte(int size, int index) {
        return (byte) (index * 31 + size * 7 + (index >>> 8));
    }
}
