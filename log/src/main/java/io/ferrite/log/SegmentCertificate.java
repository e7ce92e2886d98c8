package io.ferrite.log;

/**
 * Says which prefix of a segment replica is committed: its length, and a CRC32C over the
 * header byte and length field of every entry in that prefix, in order. An iterator trusts
 * only the bytes a certificate covers, and checks the checksum when it reaches the end.
 *
 * <pre>
 *   0                4                8
 *   +----------------+----------------+
 *   | lengthBytes    | checksum       |   (when serialized: two little-endian u32)
 *   +----------------+----------------+
 * </pre>
 *
 * @param lengthBytes bytes of the committed prefix
 * @param checksum    CRC32C over the entry headers of the prefix
 */
public record SegmentCertificate(int lengthBytes, int checksum) {
    public static final int ENCODED_BYTES = 8;

    public SegmentCertificate {
        if (lengthBytes < 0) {
            throw new IllegalArgumentException("negative certificate length " + lengthBytes);
        }
    }
}
