package io.ferrite.client;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One item of {@link Table#multiRemove(java.util.List)}: a key and a condition.
 *
 * @param key       the key, 1..65,535 bytes
 * @param condition when the remove may proceed
 */
public record RemoveOp(byte[] key, Condition condition) {
    /**
     * Validates non-null fields.
     *
     * @param key       the key
     * @param condition the condition
     */
    public RemoveOp {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(condition, "condition");
    }

    /**
     * An unconditional remove.
     *
     * @param key the key
     * @return the item
     */
    public static RemoveOp of(byte[] key) {
        return new RemoveOp(key, Condition.none());
    }

    /**
     * An unconditional remove of a UTF-8 key.
     *
     * @param key the key
     * @return the item
     */
    public static RemoveOp of(String key) {
        return of(key.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A conditional remove.
     *
     * @param key       the key
     * @param condition when it may proceed
     * @return the item
     */
    public static RemoveOp of(byte[] key, Condition condition) {
        return new RemoveOp(key, condition);
    }
}
