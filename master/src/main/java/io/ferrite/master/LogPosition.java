package io.ferrite.master;

/**
 * A position in a master's log packed into one {@code long}: what must be durable before an
 * answer that depends on it may leave the server. Packing keeps the data path free of
 * allocation and makes positions comparable with one {@code <}: a later position of the log
 * (a later head segment, or further into the same segment) packs to a larger value.
 *
 * <pre>
 *   63       62                                24 23                     0
 *  +--------+------------------------------------+------------------------+
 *  |   0    |         segment id (39 bits)        |  length (24 bits)      |
 *  +--------+------------------------------------+------------------------+
 * </pre>
 *
 * The length is the segment's length just after the entry (its end offset); segments are at
 * most 8 MiB, so it fits in 24 bits. Segment ids start at 1, so {@link #NONE} (0) is no position.
 */
public final class LogPosition {
    /** No position: nothing to wait for. */
    public static final long NONE = 0;
    /** Bits of the length field. */
    static final int LENGTH_BITS = 24;
    private static final long LENGTH_MASK = (1L << LENGTH_BITS) - 1;

    private LogPosition() {
    }

    /** Packs a segment id and a length within it. */
    public static long of(long segmentId, int length) {
        if (segmentId <= 0 || segmentId >= 1L << (63 - LENGTH_BITS) || length < 0 || length > LENGTH_MASK) {
            throw new IllegalArgumentException("log position out of range: segment " + segmentId + ", length " + length);
        }
        return segmentId << LENGTH_BITS | length;
    }

    /** The segment id of a packed position (-1 for {@link #NONE}). */
    public static long segmentId(long position) {
        return position == NONE ? -1 : position >>> LENGTH_BITS;
    }

    /** The length (end offset) of a packed position (0 for {@link #NONE}). */
    public static int length(long position) {
        return (int) (position & LENGTH_MASK);
    }

    /** Readable form, for messages. */
    public static String toString(long position) {
        return position == NONE ? "none" : "segment " + segmentId(position) + " up to " + length(position);
    }
}
