package io.ferrite.client.ops;

import io.ferrite.client.FerriteException;
import io.ferrite.client.InvalidArgumentException;
import io.ferrite.client.NotANumberException;
import io.ferrite.client.ObjectExistsException;
import io.ferrite.client.ObjectNotFoundException;
import io.ferrite.client.TableNotFoundException;
import io.ferrite.client.WrongVersionException;
import io.ferrite.proto.v1.Status;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Maps wire statuses to SDK exceptions, and unwraps future failures. */
public final class Failures {
    private Failures() {
    }

    /**
     * Whether a master's status asks for a map refresh and a retry: the tablet moved
     * ({@code UNKNOWN_TABLET}), try later ({@code RETRY}), or a table the master does not know
     * ({@code TABLE_DOESNT_EXIST}: the coordinator's map decides whether it still exists).
     *
     * @param status a data status
     * @return true to retry
     */
    public static boolean isRetriable(Status status) {
        return status == Status.UNKNOWN_TABLET || status == Status.RETRY || status == Status.TABLE_DOESNT_EXIST;
    }

    /**
     * The exception for a final, non-OK status.
     *
     * @param status  the status
     * @param version the version the response carried
     * @param message the response's message
     * @param what    the operation, for the message
     * @return the exception to throw
     */
    public static FerriteException toException(Status status, long version, String message, String what) {
        String detail = message == null || message.isEmpty() ? "" : ": " + message;
        return switch (status) {
            case OBJECT_DOESNT_EXIST -> new ObjectNotFoundException(what + ": object does not exist" + detail);
            case OBJECT_EXISTS -> new ObjectExistsException(what + ": object exists (version " + version + ")"
                    + detail, version);
            case WRONG_VERSION -> new WrongVersionException(what + ": wrong version (current " + version + ")"
                    + detail, version);
            case TABLE_DOESNT_EXIST -> new TableNotFoundException(what + ": table does not exist" + detail);
            case INVALID_ARGUMENT -> new InvalidArgumentException(what + ": invalid argument" + detail);
            case NOT_A_NUMBER -> new NotANumberException(what + ": value is not an 8-byte number" + detail);
            default -> new FerriteException(what + ": unexpected status " + status + detail);
        };
    }

    /**
     * The real failure inside a {@link CompletionException} or {@link ExecutionException}.
     *
     * @param t a failure from a future
     * @return its cause if it is a wrapper, else itself
     */
    public static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /**
     * Waits for a future on behalf of a synchronous method and rethrows its failure as is
     * (SDK exceptions are unchecked). An interrupt is kept set and reported.
     *
     * @param future the future
     * @param <T>    its value type
     * @return its value
     */
    public static <T> T await(java.util.concurrent.CompletableFuture<T> future) {
        return await(future, 0);
    }

    /**
     * Like {@link #await(java.util.concurrent.CompletableFuture)}, but first spins up to
     * {@code spinNs} for the answer: an answer that comes within it saves the wake-up of a
     * parked thread.
     *
     * @param future the operation
     * @param spinNs how long to spin before parking, 0 for not at all
     * @param <T>    the result type
     * @return the result
     */
    public static <T> T await(java.util.concurrent.CompletableFuture<T> future, long spinNs) {
        try {
            if (spinNs > 0) {
                long start = System.nanoTime();
                while (!future.isDone() && System.nanoTime() - start < spinNs) {
                    Thread.onSpinWait();
                }
            }
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(false);
            throw new FerriteException("interrupted while waiting for the cluster", e);
        } catch (ExecutionException e) {
            Throwable cause = unwrap(e);
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new FerriteException(cause.toString(), cause);
        }
    }
}
