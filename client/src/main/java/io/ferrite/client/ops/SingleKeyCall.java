package io.ferrite.client.ops;

import io.ferrite.client.FerriteException;
import io.ferrite.client.FerriteTimeoutException;
import io.ferrite.client.routing.TabletMap;
import io.ferrite.client.routing.TabletMapCache;
import io.ferrite.client.transport.DeadlineExceededException;
import io.ferrite.client.transport.RetriableException;
import io.ferrite.proto.KeyHash;
import io.ferrite.proto.v1.DataRequest;
import io.ferrite.proto.v1.DataResponse;
import io.ferrite.proto.v1.Status;

import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * One single-key operation and its retries, as the future the caller gets.
 *
 * <p>An attempt routes the key's hash through the cached tablet map and sends the operation to
 * the owner's connection; the answer is handled on the transport thread ({@link #accept}). A
 * tablet that is missing or RECOVERING, an {@code UNKNOWN_TABLET}/{@code RETRY} status, or a
 * connection failure schedules the next attempt after a backoff, refreshing the map first;
 * when the next backoff would pass the deadline the call fails with
 * {@link FerriteTimeoutException} naming the last problem.
 *
 * @param <R> the SDK result type
 */
public final class SingleKeyCall<R> extends CompletableFuture<R> implements BiConsumer<DataResponse, Throwable>,
        Runnable {
    private final ClientRuntime runtime;
    private final TabletMapCache tablets;
    private final byte[] key;
    private final long hash;
    private final DataRequest.Builder op;
    private final Decoder<R> decoder;
    private final String what;
    private final long deadlineNs;
    private TabletMap used;
    private int retries;
    private Throwable lastProblem;

    /**
     * Prepares the call; {@link #start()} sends it.
     *
     * @param runtime the client runtime
     * @param tablets the table's map cache
     * @param key     the key
     * @param op      the operation (the request id is set per attempt)
     * @param decoder turns the answer into the result
     * @param what    the operation's name, for messages
     */
    public SingleKeyCall(ClientRuntime runtime, TabletMapCache tablets, byte[] key, DataRequest.Builder op,
                         Decoder<R> decoder, String what) {
        this.runtime = runtime;
        this.tablets = tablets;
        this.key = key;
        this.hash = KeyHash.hash(key);
        this.op = op;
        this.decoder = decoder;
        this.what = what;
        this.deadlineNs = runtime.newDeadlineNs();
    }

    /**
     * Sends the first attempt.
     *
     * @return this future
     */
    public SingleKeyCall<R> start() {
        run();
        return this;
    }

    /** One attempt (also run by the timer after a backoff and map refresh). */
    @Override
    public void run() {
        if (isDone()) {
            return;
        }
        if (runtime.isClosed()) {
            completeExceptionally(new FerriteException(what + ": client is closed"));
            return;
        }
        TabletMap map = tablets.current();
        int tablet = map.find(hash);
        if (tablet < 0 || map.isRecovering(tablet)) {
            retryLater(map, new RetriableException(tablet < 0 ? "no tablet covers the key in " + map
                    : "tablet is recovering", null));
            return;
        }
        used = map;
        try {
            runtime.connection(map.address(tablet)).call(op, deadlineNs).whenComplete(this);
        } catch (FerriteException e) {
            completeExceptionally(e);
        }
    }

    /** Handles an attempt's answer or failure (on the transport thread). */
    @Override
    public void accept(DataResponse response, Throwable failure) {
        if (failure != null) {
            Throwable e = Failures.unwrap(failure);
            if (e instanceof RetriableException r) {
                retryLater(r.refreshMap() ? used : null, e);
            } else if (e instanceof DeadlineExceededException) {
                timeout(e);
            } else {
                completeExceptionally(e);
            }
            return;
        }
        Status status = decoder.status(response);
        if (status == null) {
            completeExceptionally(new FerriteException(what + ": master answered another operation: "
                    + response.getOpCase()));
        } else if (Failures.isRetriable(status)) {
            retryLater(used, new RetriableException("master answered " + status, null));
        } else {
            try {
                complete(decoder.decode(response, key, what));
            } catch (FerriteException e) {
                completeExceptionally(e);
            }
        }
    }

    /** Retries after a backoff; refreshes the map first unless {@code stale} is null. */
    private void retryLater(TabletMap stale, Throwable problem) {
        lastProblem = problem;
        long delay = runtime.backoff().delayNs(retries++);
        if (System.nanoTime() + delay - deadlineNs >= 0) {
            timeout(problem);
            return;
        }
        Runnable next = stale == null ? this : () -> refreshThenRun(stale);
        if (!runtime.schedule(next, delay)) {
            completeExceptionally(new FerriteException(what + ": client is closed"));
        }
    }

    private void refreshThenRun(TabletMap stale) {
        tablets.refresh(stale).whenComplete((map, error) -> {
            if (error == null) {
                run();
            } else {
                completeExceptionally(Failures.unwrap(error));
            }
        });
    }

    private void timeout(Throwable cause) {
        Throwable last = cause != null ? cause : lastProblem;
        completeExceptionally(new FerriteTimeoutException(what + " timed out after "
                + runtime.options().timeout().toMillis() + " ms and " + retries + " retries"
                + (last != null ? " (last problem: " + last.getMessage() + ")" : ""), last));
    }
}
