package io.ferrite.bench.workload;

/**
 * Keys of the workloads: a {@code long} key id as 16 lower-case hex digits, most significant
 * first, written into a caller-owned buffer so making a key allocates nothing.
 */
public final class KeyCodec {
    public static final int KEY_BYTES = 16;
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private KeyCodec() {
    }

    /** Writes the key of {@code keyId} into {@code key[0..16)}. */
    public static void encode(long keyId, byte[] key) {
        for (int i = KEY_BYTES - 1; i >= 0; i--) {
            key[i] = HEX[(int) (keyId & 0xF)];
            keyId >>>= 4;
        }
    }

    /** A new array holding the key of {@code keyId}. */
    public static byte[] key(long keyId) {
        byte[] key = new byte[KEY_BYTES];
        encode(keyId, key);
        return key;
    }
}
