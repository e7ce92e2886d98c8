package io.ferrite.client.ops;

import io.ferrite.client.ObjectValue;
import io.ferrite.proto.v1.DataResponse;
import io.ferrite.proto.v1.IncrementResponse;
import io.ferrite.proto.v1.ReadResponse;
import io.ferrite.proto.v1.RemoveResponse;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.WriteResponse;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * Turns the answer to one single-key operation into its SDK result, or its typed exception.
 *
 * @param <R> the SDK result type
 */
public interface Decoder<R> {
    /** Read: an absent object is {@link Optional#empty()}. */
    Decoder<Optional<ObjectValue>> READ = of(r -> r.hasRead() ? r.getRead().getStatus() : null, (r, key, what) -> {
        ReadResponse read = r.getRead();
        return switch (read.getStatus()) {
            case OK -> Optional.of(new ObjectValue(key, read.getValue().toByteArray(), read.getVersion(),
                    read.getTimestampSeconds()));
            case OBJECT_DOESNT_EXIST -> Optional.empty();
            default -> throw Failures.toException(read.getStatus(), read.getVersion(), read.getMessage(), what);
        };
    });

    /** Write: the new version. */
    Decoder<Long> WRITE = of(r -> r.hasWrite() ? r.getWrite().getStatus() : null, (r, key, what) -> {
        WriteResponse w = r.getWrite();
        if (w.getStatus() == Status.OK) {
            return w.getVersion();
        }
        throw Failures.toException(w.getStatus(), w.getVersion(), w.getMessage(), what);
    });

    /** Remove without a rule requiring existence: an absent object is empty. */
    Decoder<OptionalLong> REMOVE = of(Decoder::removeStatus, (r, key, what) -> {
        RemoveResponse rm = r.getRemove();
        return switch (rm.getStatus()) {
            case OK -> OptionalLong.of(rm.getVersion());
            case OBJECT_DOESNT_EXIST -> OptionalLong.empty();
            default -> throw Failures.toException(rm.getStatus(), rm.getVersion(), rm.getMessage(), what);
        };
    });

    /** Remove with a rule requiring existence: an absent object throws. */
    Decoder<OptionalLong> REMOVE_EXISTING = of(Decoder::removeStatus, (r, key, what) -> {
        RemoveResponse rm = r.getRemove();
        if (rm.getStatus() == Status.OK) {
            return OptionalLong.of(rm.getVersion());
        }
        throw Failures.toException(rm.getStatus(), rm.getVersion(), rm.getMessage(), what);
    });

    /** Int64 increment: the new value. */
    Decoder<Long> INCREMENT_LONG = of(Decoder::incrementStatus, (r, key, what) -> incremented(r, what).getInt64Value());

    /** Double increment: the new value. */
    Decoder<Double> INCREMENT_DOUBLE = of(Decoder::incrementStatus,
            (r, key, what) -> incremented(r, what).getDoubleValue());

    /**
     * The operation's status in the answer.
     *
     * @param response the answer
     * @return its status, or {@code null} if the answer is for another kind of operation
     */
    Status status(DataResponse response);

    /**
     * The result for a final status.
     *
     * @param response the answer
     * @param key      the key asked for
     * @param what     the operation, for messages
     * @return the result
     * @throws io.ferrite.client.FerriteException the typed exception for a refusal
     */
    R decode(DataResponse response, byte[] key, String what);

    /**
     * The second half of a decoder: {@link Decoder#decode}.
     *
     * @param <R> the SDK result type
     */
    @FunctionalInterface
    interface Body<R> {
        /**
         * The result for a final status.
         *
         * @param response the answer
         * @param key      the key asked for
         * @param what     the operation, for messages
         * @return the result
         */
        R decode(DataResponse response, byte[] key, String what);
    }

    /**
     * A decoder from its two halves.
     *
     * @param <R>    the SDK result type
     * @param status finds the operation's status in an answer (null if the answer is for another kind)
     * @param body   the result for a final status
     * @return the decoder
     */
    static <R> Decoder<R> of(Function<DataResponse, Status> status, Body<R> body) {
        return new Decoder<>() {
            @Override
            public Status status(DataResponse response) {
                return status.apply(response);
            }

            @Override
            public R decode(DataResponse response, byte[] key, String what) {
                return body.decode(response, key, what);
            }
        };
    }

    /** The increment's answer if it succeeded; else its typed exception. */
    private static IncrementResponse incremented(DataResponse r, String what) {
        IncrementResponse inc = r.getIncrement();
        if (inc.getStatus() == Status.OK) {
            return inc;
        }
        throw Failures.toException(inc.getStatus(), inc.getVersion(), inc.getMessage(), what);
    }

    private static Status removeStatus(DataResponse r) {
        return r.hasRemove() ? r.getRemove().getStatus() : null;
    }

    private static Status incrementStatus(DataResponse r) {
        return r.hasIncrement() ? r.getIncrement().getStatus() : null;
    }
}
