package io.ferrite.chaos.history;

import java.util.List;
import java.util.Objects;

/**
 * An operation a workload thread invokes, as recorded in a {@link History}.
 *
 * <p>Register keys take {@link Read}, {@link Write} and {@link Cas}; counter keys take
 * {@link Incr} and {@link Read}. A key must be used as one kind only. Multi-operations are checked
 * as independent per-key sub-operations that share the call's invoke and completion times.
 */
public sealed interface Op permits Op.Read, Op.Write, Op.Cas, Op.Incr, Op.MultiWrite, Op.MultiRead {

    /**
     * The keys this operation touches, in order (one for single-key operations).
     *
     * @return the keys
     */
    List<String> keys();

    /**
     * Whether {@code result} is a well-formed answer to this operation (the right shape, not
     * necessarily a correct one).
     *
     * @param result a result
     * @return true if the shape fits
     */
    boolean accepts(Result result);

    /**
     * A read of one key.
     *
     * @param key the key
     * @return the operation
     */
    static Read read(String key) {
        return new Read(key);
    }

    /**
     * An unconditional write.
     *
     * @param key   the key
     * @param value the value, unique per write in the workload
     * @return the operation
     */
    static Write write(String key, String value) {
        return new Write(key, value);
    }

    /**
     * A conditional write: proceeds only if the object exists with exactly
     * {@code expectedVersion}.
     *
     * @param key             the key
     * @param expectedVersion the version the object must have
     * @param value           the value, unique per write in the workload
     * @return the operation
     */
    static Cas cas(String key, long expectedVersion, String value) {
        return new Cas(key, expectedVersion, value);
    }

    /**
     * An increment of a counter key (absent counts as 0).
     *
     * @param key   the counter key
     * @param delta the amount; the workload keeps deltas positive (the durability bound needs it)
     * @return the operation
     */
    static Incr incr(String key, long delta) {
        return new Incr(key, delta);
    }

    /**
     * A multi-write of unconditional writes, one per key.
     *
     * @param keys   the keys
     * @param values the values, same length as {@code keys}
     * @return the operation
     */
    static MultiWrite multiWrite(List<String> keys, List<String> values) {
        if (keys.size() != values.size()) {
            throw new IllegalArgumentException("keys and values differ in length");
        }
        final Op[] items = new Op[keys.size()];
        for (int i = 0; i < items.length; i++) {
            items[i] = new Write(keys.get(i), values.get(i));
        }
        return new MultiWrite(List.of(items));
    }

    /**
     * A multi-read.
     *
     * @param keys the keys
     * @return the operation
     */
    static MultiRead multiRead(List<String> keys) {
        return new MultiRead(List.copyOf(keys));
    }

    /**
     * A read; the answer is {@link Result.Found}, {@link Result.Absent}, or for a counter key
     * {@link Result.CounterValue} (or {@link Result.Absent}, meaning 0).
     *
     * @param key the key
     */
    record Read(String key) implements Op {
        /**
         * Validates.
         *
         * @param key the key
         */
        public Read {
            Objects.requireNonNull(key, "key");
        }

        @Override
        public List<String> keys() {
            return List.of(key);
        }

        @Override
        public boolean accepts(Result result) {
            return result instanceof Result.Found || result instanceof Result.Absent
                    || result instanceof Result.CounterValue;
        }
    }

    /**
     * An unconditional write; the answer is {@link Result.Written}.
     *
     * @param key   the key
     * @param value the value
     */
    record Write(String key, String value) implements Op {
        /**
         * Validates.
         *
         * @param key   the key
         * @param value the value
         */
        public Write {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public List<String> keys() {
            return List.of(key);
        }

        @Override
        public boolean accepts(Result result) {
            return result instanceof Result.Written || result instanceof Result.Refused;
        }
    }

    /**
     * A conditional write; the answer is {@link Result.Written} or {@link Result.Refused}.
     *
     * @param key             the key
     * @param expectedVersion the version the object must have
     * @param value           the value
     */
    record Cas(String key, long expectedVersion, String value) implements Op {
        /**
         * Validates.
         *
         * @param key             the key
         * @param expectedVersion the version
         * @param value           the value
         */
        public Cas {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public List<String> keys() {
            return List.of(key);
        }

        @Override
        public boolean accepts(Result result) {
            return result instanceof Result.Written || result instanceof Result.Refused;
        }
    }

    /**
     * An increment; the answer is {@link Result.CounterValue} holding the new value.
     *
     * @param key   the counter key
     * @param delta the amount
     */
    record Incr(String key, long delta) implements Op {
        /**
         * Validates.
         *
         * @param key   the key
         * @param delta the amount
         */
        public Incr {
            Objects.requireNonNull(key, "key");
        }

        @Override
        public List<String> keys() {
            return List.of(key);
        }

        @Override
        public boolean accepts(Result result) {
            return result instanceof Result.CounterValue;
        }
    }

    /**
     * Several writes in one call, not atomic across keys; the answer is {@link Result.Multi}
     * with one {@link Result.Written} or {@link Result.Refused} per item.
     *
     * @param items the items, each a {@link Write} or a {@link Cas}
     */
    record MultiWrite(List<Op> items) implements Op {
        /**
         * Validates.
         *
         * @param items the items
         */
        public MultiWrite {
            items = List.copyOf(items);
            for (Op item : items) {
                if (!(item instanceof Write) && !(item instanceof Cas)) {
                    throw new IllegalArgumentException("a multi-write item must be a write or a cas: " + item);
                }
            }
        }

        @Override
        public List<String> keys() {
            return items.stream().map(i -> i.keys().getFirst()).toList();
        }

        @Override
        public boolean accepts(Result result) {
            return Result.Multi.fits(result, items);
        }
    }

    /**
     * Several reads in one call; the answer is {@link Result.Multi} with one read answer per key.
     *
     * @param keys the keys
     */
    record MultiRead(List<String> keys) implements Op {
        /**
         * Validates.
         *
         * @param keys the keys
         */
        public MultiRead {
            keys = List.copyOf(keys);
        }

        @Override
        public boolean accepts(Result result) {
            return Result.Multi.fits(result, keys.stream().<Op>map(Read::new).toList());
        }
    }
}
