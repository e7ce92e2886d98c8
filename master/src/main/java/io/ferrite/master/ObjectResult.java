package io.ferrite.master;

/**
 * What an operation returns besides its status; owned by one caller thread and reused across
 * calls so the data path does not allocate. The value buffer grows as needed.
 */
public final class ObjectResult {
    /** Segment and log length after the last append this result saw (-1: none since {@link #clearAppended()}). */
    long appendSegmentId = -1;
    int appendLength;
    long version;
    long timestampSeconds;
    byte[] value = new byte[128];
    int valueLength;
    long longValue;
    double doubleValue;
    final io.ferrite.log.ObjectFlyweight view = new io.ferrite.log.ObjectFlyweight();
    final byte[] scratch8 = new byte[8];

    /** Version of the object read, written or removed (0 if there was none). */
    public long version() {
        return version;
    }

    public long timestampSeconds() {
        return timestampSeconds;
    }

    /** The buffer holding the value read; valid bytes are {@code [0, valueLength())}. */
    public byte[] valueBuffer() {
        return value;
    }

    public int valueLength() {
        return valueLength;
    }

    /** A copy of the value read. */
    public byte[] valueCopy() {
        return java.util.Arrays.copyOf(value, valueLength);
    }

    /** New value after an int64 increment. */
    public long longValue() {
        return longValue;
    }

    /** New value after a double increment. */
    public double doubleValue() {
        return doubleValue;
    }

    byte[] valueBuffer(int length) {
        if (value.length < length) {
            value = new byte[Math.max(length, value.length * 2)];
        }
        valueLength = length;
        return value;
    }

    /** Records where an operation's bytes ended in the log (what replication must cover before it is acknowledged). */
    void appended(long segmentId, int length) {
        appendSegmentId = segmentId;
        appendLength = length;
    }

    /** Forgets the last append (before a new request). */
    public void clearAppended() {
        appendSegmentId = -1;
        appendLength = 0;
    }

    /** Segment holding the last append since {@link #clearAppended()}, or -1 if nothing was appended. */
    public long appendSegmentId() {
        return appendSegmentId;
    }

    /** Length of that segment right after the append. */
    public int appendLength() {
        return appendLength;
    }
}
