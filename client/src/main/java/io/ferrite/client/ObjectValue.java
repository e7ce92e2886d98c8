package io.ferrite.client;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One object as read: key, value, version and write time. Returned by reads, multi-reads and
 * enumeration. The arrays are owned by this object; callers must not modify them.
 */
public final class ObjectValue {
    private final byte[] key;
    private final byte[] value;
    private final long version;
    private final long timestampSeconds;

    /**
     * Creates a value.
     *
     * @param key              the key
     * @param value            the value
     * @param version          the object's version (strictly increasing per key, never 0)
     * @param timestampSeconds when it was written, seconds since the Unix epoch
     */
    public ObjectValue(byte[] key, byte[] value, long version, long timestampSeconds) {
        this.key = key;
        this.value = value;
        this.version = version;
        this.timestampSeconds = timestampSeconds;
    }

    /**
     * The key.
     *
     * @return the key bytes (not a copy)
     */
    public byte[] key() {
        return key;
    }

    /**
     * The key decoded as UTF-8.
     *
     * @return the key as a string
     */
    public String keyAsString() {
        return new String(key, StandardCharsets.UTF_8);
    }

    /**
     * The value.
     *
     * @return the value bytes (not a copy)
     */
    public byte[] value() {
        return value;
    }

    /**
     * The value decoded as UTF-8.
     *
     * @return the value as a string
     */
    public String valueAsString() {
        return new String(value, StandardCharsets.UTF_8);
    }

    /**
     * The object's version: pass it to {@link Condition#ifVersion(long)} for compare-and-set.
     *
     * @return the version
     */
    public long version() {
        return version;
    }

    /**
     * When the object was written.
     *
     * @return seconds since the Unix epoch
     */
    public long timestampSeconds() {
        return timestampSeconds;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ObjectValue other && version == other.version
                && timestampSeconds == other.timestampSeconds && Arrays.equals(key, other.key)
                && Arrays.equals(value, other.value);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(key) + Long.hashCode(version);
    }

    @Override
    public String toString() {
        return "ObjectValue[key=" + keyAsString() + ", " + value.length + " bytes, version=" + version + "]";
    }
}
