package io.ferrite.chaos.history;

import java.util.List;
import java.util.Objects;

/** The answer of an operation that completed ({@link History#ok(long, Result)}). */
public sealed interface Result
        permits Result.Written, Result.Found, Result.Absent, Result.Refused, Result.CounterValue, Result.Multi {

    /** The single absent answer. */
    Absent ABSENT = new Absent();

    /**
     * A write or CAS that was applied.
     *
     * @param version the version the server gave the new object
     * @return the result
     */
    static Written written(long version) {
        return new Written(version);
    }

    /**
     * A read that found an object.
     *
     * @param value   the value
     * @param version its version
     * @return the result
     */
    static Found found(String value, long version) {
        return new Found(value, version);
    }

    /**
     * A read that found nothing.
     *
     * @return the result
     */
    static Absent absent() {
        return ABSENT;
    }

    /**
     * A CAS refused because the object does not exist.
     *
     * @return the result
     */
    static Refused refusedNotFound() {
        return new Refused(Refusal.NOT_FOUND, 0);
    }

    /**
     * A CAS refused because the object has another version.
     *
     * @param currentVersion the object's version as the server reported it, or 0 if not known
     * @return the result
     */
    static Refused refusedWrongVersion(long currentVersion) {
        return new Refused(Refusal.WRONG_VERSION, currentVersion);
    }

    /**
     * An increment's new value, or the value a read of a counter key found.
     *
     * @param value the value
     * @return the result
     */
    static CounterValue counter(long value) {
        return new CounterValue(value);
    }

    /**
     * Per-key answers of a multi-operation.
     *
     * @param results one per key, in the operation's order
     * @return the result
     */
    static Multi multi(List<Result> results) {
        return new Multi(results);
    }

    /**
     * An applied write.
     *
     * @param version the new version
     */
    record Written(long version) implements Result {
    }

    /**
     * A read that found an object.
     *
     * @param value   the value
     * @param version the version
     */
    record Found(String value, long version) implements Result {
        /**
         * Validates.
         *
         * @param value   the value
         * @param version the version
         */
        public Found {
            Objects.requireNonNull(value, "value");
        }
    }

    /** A read that found nothing (for a counter key: the value 0). */
    record Absent() implements Result {
    }

    /** Why a conditional write was refused. */
    enum Refusal {
        /** The object does not exist. */
        NOT_FOUND,
        /** The object exists with another version. */
        WRONG_VERSION
    }

    /**
     * A conditional write the server refused; nothing changed, and the checker must justify it.
     *
     * @param reason         why
     * @param currentVersion for {@link Refusal#WRONG_VERSION}: the object's version if the server
     *                       reported it, else 0
     */
    record Refused(Refusal reason, long currentVersion) implements Result {
        /**
         * Validates.
         *
         * @param reason         why
         * @param currentVersion the version or 0
         */
        public Refused {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * A counter's value: the new value after an increment, or what a read found.
     *
     * @param value the value
     */
    record CounterValue(long value) implements Result {
    }

    /**
     * Per-key answers of a multi-operation, in the operation's key order.
     *
     * @param results the answers
     */
    record Multi(List<Result> results) implements Result {
        /**
         * Validates.
         *
         * @param results the answers
         */
        public Multi {
            results = List.copyOf(results);
            for (Result r : results) {
                if (r instanceof Multi) {
                    throw new IllegalArgumentException("nested multi result");
                }
            }
        }

        static boolean fits(Result result, List<Op> items) {
            if (!(result instanceof Multi(List<Result> rs)) || rs.size() != items.size()) {
                return false;
            }
            for (int i = 0; i < rs.size(); i++) {
                if (!items.get(i).accepts(rs.get(i))) {
                    return false;
                }
            }
            return true;
        }
    }
}
