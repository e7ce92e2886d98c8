package io.ferrite.client.ops;

import io.ferrite.client.FerriteException;
import io.ferrite.client.FerriteTimeoutException;
import io.ferrite.client.routing.TabletMap;
import io.ferrite.client.routing.TabletMapCache;
import io.ferrite.client.transport.DeadlineExceededException;
import io.ferrite.client.transport.RetriableException;
import io.ferrite.proto.KeyHash;
import io.ferrite.proto.v1.DataResponse;
import io.ferrite.proto.v1.Status;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One multi-operation and its retries, as the future the caller gets.
 *
 * <p>It runs in rounds. A round groups the items still to do by the master that owns each
 * key (per the cached tablet map), splits each group into requests of at most
 * {@code multiOpBatchItems} items and {@code multiOpBatchBytes} bytes, and sends them all at
 * once. Each item's answer lands in its slot of the result array, so results come back in
 * request order whatever the grouping. Items whose tablet moved, was recovering or answered
 * {@code RETRY}, and the items of a request whose connection failed, make up the next round,
 * after a backoff and a map refresh; items already done are not sent again.
 *
 * @param <I> the item type
 * @param <R> the per-item result type
 */
public final class MultiCall<I, R> extends CompletableFuture<List<R>> {
    private final ClientRuntime runtime;
    private final TabletMapCache tablets;
    private final List<I> items;
    private final MultiKind<I, R> kind;
    private final String what;
    private final long[] hashes;
    private final Object[] results;
    private final long deadlineNs;
    private int[] todo;
    private int outstanding;
    private int[] retryBuffer;
    private int retryCount;
    private FerriteException fatal;
    private Throwable lastProblem;
    private int retries;
    private boolean refreshNeeded;

    /**
     * Prepares the call; {@link #start()} sends it.
     *
     * @param runtime the client runtime
     * @param tablets the table's map cache
     * @param items   the items, in the order results are wanted
     * @param kind    the kind of operation
     * @param what    the operation's name, for messages
     */
    public MultiCall(ClientRuntime runtime, TabletMapCache tablets, List<I> items, MultiKind<I, R> kind,
                     String what) {
        this.runtime = runtime;
        this.tablets = tablets;
        this.items = items;
        this.kind = kind;
        this.what = what;
        this.hashes = new long[items.size()];
        for (int i = 0; i < hashes.length; i++) {
            hashes[i] = KeyHash.hash(kind.key(items.get(i)));
        }
        this.results = new Object[items.size()];
        this.deadlineNs = runtime.newDeadlineNs();
        this.todo = new int[items.size()];
        Arrays.setAll(todo, i -> i);
        this.retryBuffer = new int[items.size()];
    }

    /**
     * Sends the first round.
     *
     * @return this future
     */
    public MultiCall<I, R> start() {
        if (items.isEmpty()) {
            complete(List.of());
        } else {
            round();
        }
        return this;
    }

    private void round() {
        if (isDone()) {
            return;
        }
        if (runtime.isClosed()) {
            completeExceptionally(new FerriteException(what + ": client is closed"));
            return;
        }
        TabletMap map = tablets.current();
        int maxItems = runtime.options().multiOpBatchItems();
        int maxBytes = runtime.options().multiOpBatchBytes();
        Map<String, Chunker> byMaster = new LinkedHashMap<>();
        int[] unrouted = new int[todo.length];
        int unroutedCount = 0;
        for (int index : todo) {
            int tablet = map.find(hashes[index]);
            if (tablet < 0 || map.isRecovering(tablet)) {
                unrouted[unroutedCount++] = index;
            } else {
                byMaster.computeIfAbsent(map.address(tablet), a -> new Chunker(maxItems, maxBytes, todo.length))
                        .add(index, kind.sizeBytes(items.get(index)));
            }
        }
        int total = 0;
        for (Chunker c : byMaster.values()) {
            total += c.finish().size();
        }
        synchronized (this) {
            retryCount = 0;
            for (int i = 0; i < unroutedCount; i++) {
                retryBuffer[retryCount++] = unrouted[i];
            }
            refreshNeeded = unroutedCount > 0;
            if (unroutedCount > 0) {
                lastProblem = new RetriableException("tablet missing or recovering", null);
            }
            outstanding = total + 1;
        }
        for (Map.Entry<String, Chunker> e : byMaster.entrySet()) {
            for (int[] chunk : e.getValue().finish()) {
                send(map, e.getKey(), chunk);
            }
        }
        requestDone(map);
    }

    private void send(TabletMap map, String address, int[] chunk) {
        try {
            runtime.connection(address).call(kind.request(map.tableId(), items, chunk), deadlineNs)
                    .whenComplete((response, failure) -> answered(map, chunk, response, failure));
        } catch (FerriteException e) {
            answered(map, chunk, null, e);
        }
    }

    private void answered(TabletMap map, int[] chunk, DataResponse response, Throwable failure) {
        synchronized (this) {
            if (failure != null) {
                Throwable e = Failures.unwrap(failure);
                if (e instanceof RetriableException r) {
                    lastProblem = e;
                    refreshNeeded |= r.refreshMap();
                    for (int index : chunk) {
                        retryBuffer[retryCount++] = index;
                    }
                } else if (e instanceof DeadlineExceededException) {
                    fatal = timeoutException(e);
                } else {
                    fatal = e instanceof FerriteException f ? f : new FerriteException(what + " failed", e);
                }
            } else if (kind.answers(response) != chunk.length) {
                fatal = new FerriteException(what + ": master answered " + kind.answers(response) + " items for "
                        + chunk.length + " (" + response.getOpCase() + ")");
            } else {
                for (int j = 0; j < chunk.length; j++) {
                    Status status = kind.status(response, j);
                    if (Failures.isRetriable(status)) {
                        lastProblem = new RetriableException("master answered " + status, null);
                        refreshNeeded = true;
                        retryBuffer[retryCount++] = chunk[j];
                    } else {
                        try {
                            results[chunk[j]] = kind.result(response, j, items.get(chunk[j]));
                        } catch (FerriteException e) {
                            fatal = e;
                        }
                    }
                }
            }
        }
        requestDone(map);
    }

    private void requestDone(TabletMap map) {
        int[] next;
        FerriteException failed;
        boolean refresh;
        synchronized (this) {
            if (--outstanding > 0) {
                return;
            }
            failed = fatal;
            next = Arrays.copyOf(retryBuffer, retryCount);
            refresh = refreshNeeded;
        }
        if (failed != null) {
            completeExceptionally(failed);
        } else if (next.length == 0) {
            complete(resultList());
        } else {
            todo = next;
            retryLater(map, refresh);
        }
    }

    @SuppressWarnings("unchecked")
    private List<R> resultList() {
        return (List<R>) List.of(results);
    }

    private void retryLater(TabletMap stale, boolean refresh) {
        long delay = runtime.backoff().delayNs(retries++);
        if (System.nanoTime() + delay - deadlineNs >= 0) {
            completeExceptionally(timeoutException(lastProblem));
            return;
        }
        Runnable next = !refresh ? this::round : () -> tablets.refresh(stale).whenComplete((map, error) -> {
            if (error == null) {
                round();
            } else {
                completeExceptionally(Failures.unwrap(error));
            }
        });
        if (!runtime.schedule(next, delay)) {
            completeExceptionally(new FerriteException(what + ": client is closed"));
        }
    }

    private FerriteTimeoutException timeoutException(Throwable last) {
        return new FerriteTimeoutException(what + " of " + items.size() + " items timed out after "
                + runtime.options().timeout().toMillis() + " ms and " + retries + " retries"
                + (last != null ? " (last problem: " + last.getMessage() + ")" : ""), last);
    }

    /** Splits one master's item indexes into requests bounded in items and bytes. */
    private static final class Chunker {
        private final int maxItems;
        private final int maxBytes;
        private final int firstCapacity;
        private final List<int[]> chunks = new ArrayList<>();
        private int[] current;
        private int count;
        private long bytes;

        Chunker(int maxItems, int maxBytes, int itemsAtMost) {
            this.maxItems = maxItems;
            this.maxBytes = maxBytes;
            this.firstCapacity = Math.min(maxItems, itemsAtMost);
        }

        void add(int index, int sizeBytes) {
            if (current == null || count == maxItems || (count > 0 && bytes + sizeBytes > maxBytes)) {
                flush();
                current = new int[firstCapacity];
            }
            current[count++] = index;
            bytes += sizeBytes;
        }

        private void flush() {
            if (current != null && count > 0) {
                chunks.add(Arrays.copyOf(current, count));
            }
            current = null;
            count = 0;
            bytes = 0;
        }

        List<int[]> finish() {
            flush();
            return chunks;
        }
    }
}
