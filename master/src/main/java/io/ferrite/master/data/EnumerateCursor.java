package io.ferrite.master.data;

import com.google.protobuf.ByteString;
import io.ferrite.proto.KeyHash;
import java.nio.ByteBuffer;

/**
 * The opaque Enumerate cursor: the (key hash, key) of the last object sent, after which a
 * resumed enumeration continues in the engine's (unsigned hash, unsigned key bytes) order.
 *
 * <pre>
 *   0        1                  9
 *   +--------+------------------+----------------------+
 *   | format | key hash (8, BE) | key (1..65,535 bytes) |
 *   +--------+------------------+----------------------+
 * </pre>
 *
 * @param keyHash the unsigned key hash of the last object sent
 * @param key     its key
 */
public record EnumerateCursor(long keyHash, byte[] key) {
    static final byte FORMAT = 1;
    private static final int HEADER_BYTES = 9;

    public ByteString encode() {
        ByteBuffer buffer = ByteBuffer.allocate(HEADER_BYTES + key.length);
        buffer.put(FORMAT).putLong(keyHash).put(key);
        return ByteString.copyFrom(buffer.array());
    }

    /**
     * Decodes a cursor from a request.
     *
     * @return the cursor, or null if the bytes are not one this server issued
     */
    public static EnumerateCursor decode(ByteString bytes) {
        int keyLength = bytes.size() - HEADER_BYTES;
        if (keyLength < 1 || keyLength > Limits.MAX_KEY_BYTES || bytes.byteAt(0) != FORMAT) {
            return null;
        }
        ByteBuffer buffer = bytes.asReadOnlyByteBuffer();
        buffer.get();
        long hash = buffer.getLong();
        byte[] key = new byte[keyLength];
        buffer.get(key);
        return KeyHash.hash(key) == hash ? new EnumerateCursor(hash, key) : null;
    }
}
