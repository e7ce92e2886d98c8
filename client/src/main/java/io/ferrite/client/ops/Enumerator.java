package io.ferrite.client.ops;

import io.ferrite.client.EnumerationInterruptedException;
import io.ferrite.client.FerriteException;
import io.ferrite.client.FerriteTimeoutException;
import io.ferrite.client.InvalidArgumentException;
import io.ferrite.client.ObjectValue;
import io.ferrite.client.routing.TabletMap;
import io.ferrite.client.routing.TabletMapCache;
import io.ferrite.proto.v1.DataServiceGrpc;
import io.ferrite.proto.v1.EnumerateRequest;
import io.ferrite.proto.v1.EnumerateResponse;
import io.ferrite.proto.v1.EnumeratedObject;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

import com.google.protobuf.ByteString;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;

/**
 * Drives the enumeration of one table: master after master (in the order of their first
 * tablet), one {@code Enumerate} server stream each, with manual flow control so that at
 * most one batch is in flight beyond what the consumer holds.
 *
 * <p>Resuming: every batch carries a cursor. When a stream breaks, ends without its last
 * batch, or answers {@code RETRY}/{@code UNKNOWN_TABLET}, the enumerator backs off, refreshes
 * the tablet map, and re-opens a stream to the same master (by server id, at its current
 * address) from the last cursor, so no object is lost or repeated. If the map shows that
 * tablets changed owner since the enumeration was planned, it starts over when nothing has
 * been delivered yet, and otherwise fails with {@link EnumerationInterruptedException}: the
 * wire cursor is only meaningful to the master that issued it. Each wait for a batch (retries
 * included) is bounded by the client's timeout.
 *
 * <p>Threads: callbacks arrive on gRPC and timer threads; state is guarded by this object's
 * lock, and the sink is never called while holding it, nor called again before it
 * acknowledged the previous batch with {@link #requestNext()}.
 */
public final class Enumerator {
    /** Where batches go. */
    public interface Sink {
        /**
         * A non-empty batch, in the master's cursor order (bit-reversed key hash, then key). Call {@link #requestNext()} when ready
         * for more (it may be called from within this method).
         *
         * @param objects the batch
         */
        void onBatch(List<ObjectValue> objects);

        /**
         * The end: {@code null} when every object was delivered, else the failure.
         *
         * @param failure the failure, or {@code null}
         */
        void onEnd(Throwable failure);
    }

    private final ClientRuntime runtime;
    private final TabletMapCache tablets;
    private final Sink sink;
    private final long timeoutNs;
    private TabletMap plan;
    private List<Long> owners;
    private int ownerIndex;
    private ByteString cursor = ByteString.EMPTY;
    private boolean ownerDone;
    /** Whether any object was delivered (after that, a change of owners cannot be absorbed). */
    private boolean progress;
    private boolean consumerBusy;
    private boolean wantOpen;
    private boolean finished;
    private Attempt attempt;
    private long waitSeq;
    private ScheduledFuture<?> watchdog;
    private long lastProgressNs;
    private int retries;
    private long streamsOpened;

    /**
     * Prepares an enumeration; {@link #start()} begins it.
     *
     * @param runtime the client runtime
     * @param tablets the table's map cache
     * @param sink    receives batches and the end
     */
    public Enumerator(ClientRuntime runtime, TabletMapCache tablets, Sink sink) {
        this.runtime = runtime;
        this.tablets = tablets;
        this.sink = sink;
        this.timeoutNs = runtime.options().timeout().toNanos();
    }

    /** Plans the masters from the cached map and opens the first stream. */
    public void start() {
        synchronized (this) {
            lastProgressNs = System.nanoTime();
            replan(tablets.current());
        }
        open();
    }

    /**
     * How many streams were opened (one per master, plus one per resumption).
     *
     * @return streams opened
     */
    public synchronized long streamsOpened() {
        return streamsOpened;
    }

    private void replan(TabletMap map) {
        plan = map;
        owners = new ArrayList<>(map.ownersInHashOrder().keySet());
        ownerIndex = 0;
        cursor = ByteString.EMPTY;
        ownerDone = false;
    }

    /** The consumer is ready for the next batch. */
    public void requestNext() {
        Attempt toRequest = null;
        boolean doOpen = false;
        synchronized (this) {
            consumerBusy = false;
            if (finished) {
                return;
            }
            if (ownerDone) {
                ownerIndex++;
                cursor = ByteString.EMPTY;
                ownerDone = false;
                attempt = null;
                doOpen = true;
            } else if (wantOpen) {
                wantOpen = false;
                doOpen = true;
            } else if (attempt != null) {
                toRequest = attempt;
                arm();
            }
        }
        if (doOpen) {
            open();
        } else if (toRequest != null) {
            toRequest.request();
        }
    }

    /** Stops: cancels the stream; the sink hears nothing more. */
    public void cancel() {
        Attempt att;
        synchronized (this) {
            if (finished) {
                return;
            }
            finished = true;
            att = detach();
        }
        if (att != null) {
            att.cancel("enumeration closed by the client");
        }
    }

    private void open() {
        Attempt att;
        EnumerateRequest request;
        String address;
        synchronized (this) {
            if (finished) {
                return;
            }
            if (consumerBusy) {
                wantOpen = true;
                return;
            }
            TabletMap map = tablets.current();
            if (!map.sameOwnership(plan)) {
                if (progress) {
                    finishLocked(new EnumerationInterruptedException("table " + tablets.name()
                            + ": tablets changed owner during the enumeration (was " + plan + ", now " + map + ")"));
                    return;
                }
                replan(map);
            }
            if (ownerIndex >= owners.size()) {
                finishLocked(null);
                return;
            }
            long owner = owners.get(ownerIndex);
            if (!map.ownerServing(owner)) {
                retryLocked(map, "a tablet of master " + map.ownersInHashOrder().get(owner) + " is recovering");
                return;
            }
            address = addressOf(map, owner);
            request = EnumerateRequest.newBuilder().setTableId(tablets.tableId()).setCursor(cursor)
                    .setBatchObjects(runtime.options().enumerateBatchObjects()).build();
            att = new Attempt(map, address);
            attempt = att;
            streamsOpened++;
            arm();
        }
        try {
            DataServiceGrpc.newStub(runtime.channel(address)).enumerate(request, att);
        } catch (FerriteException e) {
            finish(e);
        }
    }

    private static String addressOf(TabletMap map, long owner) {
        for (Map.Entry<Long, String> e : map.ownersInHashOrder().entrySet()) {
            if (e.getKey() == owner) {
                return e.getValue();
            }
        }
        throw new IllegalStateException("owner " + owner + " not in " + map);
    }

    private void batch(Attempt att, EnumerateResponse response) {
        List<ObjectValue> objects = null;
        boolean requestMore = false;
        boolean openNext = false;
        boolean cancelStream = false;
        synchronized (this) {
            if (att != attempt || finished) {
                return;
            }
            waitSeq++;
            if (watchdog != null) {
                watchdog.cancel(false);
                watchdog = null;
            }
            switch (response.getStatus()) {
                case OK -> {
                    if (!response.getCursor().isEmpty()) {
                        cursor = response.getCursor();
                    }
                    ownerDone = response.getDone();
                    lastProgressNs = System.nanoTime();
                    retries = 0;
                    if (response.getObjectsCount() > 0) {
                        progress = true;
                        objects = toValues(response.getObjectsList());
                        consumerBusy = true;
                    } else if (ownerDone) {
                        ownerIndex++;
                        cursor = ByteString.EMPTY;
                        ownerDone = false;
                        attempt = null;
                        openNext = true;
                    } else {
                        requestMore = true;
                        arm();
                    }
                }
                case RETRY, UNKNOWN_TABLET, TABLE_DOESNT_EXIST -> {
                    detach();
                    retryLocked(att.map, "master " + att.address + " answered " + response.getStatus());
                    cancelStream = true;
                }
                case INVALID_ARGUMENT -> {
                    finishLocked(new InvalidArgumentException("enumerate " + tablets.name() + ": "
                            + response.getMessage()));
                    return;
                }
                default -> {
                    finishLocked(new FerriteException("enumerate " + tablets.name() + ": unexpected status "
                            + response.getStatus() + " " + response.getMessage()));
                    return;
                }
            }
        }
        if (cancelStream) {
            att.cancel("retrying");
        } else if (objects != null) {
            sink.onBatch(objects);
        } else if (openNext) {
            open();
        } else if (requestMore) {
            att.request();
        }
    }

    private static List<ObjectValue> toValues(List<EnumeratedObject> objects) {
        List<ObjectValue> values = new ArrayList<>(objects.size());
        for (EnumeratedObject o : objects) {
            values.add(new ObjectValue(o.getKey().toByteArray(), o.getValue().toByteArray(), o.getVersion(),
                    o.getTimestampSeconds()));
        }
        return values;
    }

    private void broken(Attempt att, Status status) {
        synchronized (this) {
            if (att != attempt || finished || ownerDone) {
                return;
            }
            attempt = null;
            switch (status.getCode()) {
                case UNIMPLEMENTED, INVALID_ARGUMENT, PERMISSION_DENIED, UNAUTHENTICATED ->
                        finishLocked(new FerriteException("enumerate " + tablets.name() + " at " + att.address
                                + ": " + status));
                default -> retryLocked(att.map, "stream from master " + att.address + " broke: " + status);
            }
        }
    }

    /** Schedules a refresh and re-open after a backoff; must hold the lock. */
    private void retryLocked(TabletMap stale, String problem) {
        long delay = runtime.backoff().delayNs(retries++);
        if (System.nanoTime() + delay - (lastProgressNs + timeoutNs) >= 0) {
            finishLocked(new FerriteTimeoutException("enumerate " + tablets.name() + ": no progress for "
                    + runtime.options().timeout().toMillis() + " ms (last problem: " + problem + ")", null));
            return;
        }
        waitSeq++;
        Runnable reopen = () -> tablets.refresh(stale).whenComplete((map, error) -> {
            if (error != null) {
                finish(Failures.unwrap(error));
            } else {
                open();
            }
        });
        if (!runtime.schedule(reopen, delay)) {
            finishLocked(new FerriteException("client is closed"));
        }
    }

    /** Starts the timer for the batch now awaited; must hold the lock. */
    private void arm() {
        long seq = ++waitSeq;
        if (watchdog != null) {
            watchdog.cancel(false);
        }
        watchdog = runtime.scheduleCancellable(() -> expired(seq), timeoutNs);
    }

    private void expired(long seq) {
        synchronized (this) {
            if (seq != waitSeq || finished) {
                return;
            }
        }
        finish(new FerriteTimeoutException("enumerate " + tablets.name() + ": no batch within "
                + runtime.options().timeout().toMillis() + " ms", null));
    }

    private Attempt detach() {
        Attempt att = attempt;
        attempt = null;
        waitSeq++;
        if (watchdog != null) {
            watchdog.cancel(false);
            watchdog = null;
        }
        return att;
    }

    private void finish(Throwable failure) {
        synchronized (this) {
            finishLocked(failure);
        }
    }

    /**
     * Ends the enumeration; the stream cancel and the sink call run after the lock is released
     * by deferring them to the timer thread (a callback must not call back into gRPC or the
     * consumer while the lock is held).
     */
    private void finishLocked(Throwable failure) {
        if (finished) {
            return;
        }
        finished = true;
        Attempt att = detach();
        Runnable end = () -> {
            if (att != null) {
                att.cancel("enumeration ended");
            }
            sink.onEnd(failure);
        };
        if (!runtime.schedule(end, 0)) {
            Thread.ofVirtual().start(end);
        }
    }

    /** One Enumerate stream to one master. */
    private final class Attempt implements ClientResponseObserver<EnumerateRequest, EnumerateResponse> {
        private final TabletMap map;
        private final String address;
        private volatile ClientCallStreamObserver<EnumerateRequest> call;

        Attempt(TabletMap map, String address) {
            this.map = map;
            this.address = address;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<EnumerateRequest> requestStream) {
            this.call = requestStream;
            requestStream.disableAutoRequestWithInitial(1);
        }

        void request() {
            call.request(1);
        }

        void cancel(String why) {
            ClientCallStreamObserver<EnumerateRequest> c = call;
            if (c != null) {
                c.cancel(why, null);
            }
        }

        @Override
        public void onNext(EnumerateResponse value) {
            batch(this, value);
        }

        @Override
        public void onError(Throwable t) {
            broken(this, Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            broken(this, Status.UNAVAILABLE.withDescription("master " + address + " ended the enumeration early"));
        }
    }
}
