package io.ferrite.master;

/**
 * What an operation returns besides its status; owned by one caller thread and reused across
 * calls so the data path does not allocate. The value buffer grows as needed.
 */
public final class ObjectResult {
    /**
     * The latest {@link LogPosition} the answers since {@link #clearAppended()} depend on: the
     * end of what they appended, of the entries they revealed, or of the removals behind a
     * "doesn't exist" ({@link LogPosition#NONE}: none).
     */
    long awaitPosition = LogPosition.NONE;
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
        dependsOn(LogPosition.of(segmentId, length));
    }

    /**
     * Records that the answer reveals what the log holds up to {@code position} (an entry read,
     * a rejection's cause, a removal behind "doesn't exist"): it may leave the server only once
     * that position is durable. Keeps the latest position (durability covers everything before it).
     */
    void dependsOn(long position) {
        if (position > awaitPosition) {
            awaitPosition = position;
        }
    }

    /** Forgets the positions recorded so far (before a new request). */
    public void clearAppended() {
        awaitPosition = LogPosition.NONE;
    }

    /**
     * The latest log position the answers since {@link #clearAppended()} depend on, packed as a
     * {@link LogPosition}; {@link LogPosition#NONE} when they reveal nothing that might not be
     * durable yet (no replication needed, or the entries were copies made by the cleaner).
     */
    public long awaitPosition() {
        return awaitPosition;
    }

    /** Segment of {@link #awaitPosition()}, or -1 if there is none. */
    public long appendSegmentId() {
        return LogPosition.segmentId(awaitPosition);
    }

    /** Length of that segment {@link #awaitPosition()} asks for. */
    public int appendLength() {
        return LogPosition.length(awaitPosition);
    }
}
