package io.ferrite.log;

/**
 * Framing of every log entry.
 *
 * <pre>
 *   0        1                  1+w              5+w
 *   +--------+------------------+----------------+--------------------------+
 *   | header | length (w bytes) | CRC32C (4 B)   | payload (length - 4 B)   |
 *   +--------+------------------+----------------+--------------------------+
 *   header:  bits 0..5 entry type code, bits 6..7 = w - 1  (w = 1..4)
 *   length:  unsigned little-endian, bytes after the length field (CRC + payload)
 *   CRC32C:  over the header byte, the length field and the payload, in that order
 * </pre>
 *
 * The header byte and length field of each entry also feed the segment's certificate
 * checksum (see {@link SegmentCertificate}).
 */
public final class EntryDescriptor {
    /** Bytes of the CRC32C field at the start of the contents. */
    public static final int CRC_BYTES = 4;
    /** Largest value of the length field: contents of one entry are below 16 MiB. */
    public static final int MAX_CONTENT_BYTES = (1 << 24) - 1;

    private EntryDescriptor() {
    }

    /** Bytes needed to store {@code contentLength} in the length field (1..4). */
    public static int lengthWidth(int contentLength) {
        if (contentLength < 0) {
            throw new IllegalArgumentException("negative length " + contentLength);
        }
        if (contentLength < 1 << 8) {
            return 1;
        }
        if (contentLength < 1 << 16) {
            return 2;
        }
        if (contentLength < 1 << 24) {
            return 3;
        }
        return 4;
    }

    /** Total bytes of an entry whose payload has {@code payloadLength} bytes. */
    public static int framedLength(int payloadLength) {
        int content = CRC_BYTES + payloadLength;
        return 1 + lengthWidth(content) + content;
    }

    public static byte headerByte(EntryType type, int lengthWidth) {
        return (byte) (type.code() | ((lengthWidth - 1) << 6));
    }

    public static int typeCode(byte header) {
        return header & 0x3F;
    }

    public static int lengthWidthOf(byte header) {
        return ((header >>> 6) & 0x3) + 1;
    }
}
