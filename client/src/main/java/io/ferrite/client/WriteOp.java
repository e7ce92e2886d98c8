package io.ferrite.client;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One item of {@link Table#multiWrite(java.util.List)}: a key, a value and a condition.
 *
 * @param key       the key, 1..65,535 bytes
 * @param value     the value, 0..1 MiB
 * @param condition when the write may proceed
 */
public record WriteOp(byte[] key, byte[] value, Condition condition) {
    /**
     * Validates non-null fields.
     *
     * @param key       the key
     * @param value     the value
     * @param condition the condition
     */
    public WriteOp {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(condition, "condition");
    }

    /**
     * An unconditional write.
     *
     * @param key   the key
     * @param value the value
     * @return the item
     */
    public static WriteOp of(byte[] key, byte[] value) {
        return new WriteOp(key, value, Condition.none());
    }

    /**
     * An unconditional write of UTF-8 strings.
     *
     * @param key   the key
     * @param value the value
     * @return the item
     */
    public static WriteOp of(String key, String value) {
        return of(key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A conditional write.
     *
     * @param key       the key
     * @param value     the value
     * @param condition when it may proceed
     * @return the item
     */
    public static WriteOp of(byte[] key, byte[] value, Condition condition) {
        return new WriteOp(key, value, condition);
    }
}
