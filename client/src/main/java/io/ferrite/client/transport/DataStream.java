package io.ferrite.client.transport;

import io.ferrite.proto.v1.DataRequest;
import io.ferrite.proto.v1.DataResponse;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * One open {@code DataService.Stream} to a master, multiplexing requests by request id.
 *
 * <p>Sending: under one lock, a request is registered in the pending map and either written
 * at once (the transport is ready) or appended to a backlog that the gRPC on-ready callback
 * drains, so the transport's outbound buffer stays bounded; the pending map is bounded by
 * {@code maxInFlight}. Receiving: answers arrive on the channel's executor (direct by default:
 * the network thread) and complete the matching {@link PendingCall} right there, with no
 * hop. Failure: the first error or end of the stream marks it broken, and every pending call
 * fails with a {@link RetriableException} (outside the lock) for the caller's retry logic;
 * the owner opens a fresh stream for the next request.
 */
public final class DataStream implements ClientResponseObserver<DataRequest, DataResponse> {
    private final String address;
    private final int maxInFlight;
    private final Consumer<DataStream> onBroken;
    private final ConcurrentHashMap<Long, PendingCall> pending = new ConcurrentHashMap<>();
    private final ArrayDeque<DataRequest> backlog = new ArrayDeque<>();
    private final Object lock = new Object();
    private ClientCallStreamObserver<DataRequest> requests;
    private boolean broken;
    private volatile boolean brokenFlag;
    private volatile Status failure;

    /**
     * Creates the observer; the owner then starts the call with it.
     *
     * @param address     the master's address (for messages)
     * @param maxInFlight most pending requests
     * @param onBroken    told once when the stream breaks
     */
    public DataStream(String address, int maxInFlight, Consumer<DataStream> onBroken) {
        this.address = address;
        this.maxInFlight = maxInFlight;
        this.onBroken = onBroken;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<DataRequest> requestStream) {
        this.requests = requestStream;
        requestStream.setOnReadyHandler(this::drain);
    }

    /**
     * Sends a request whose answer completes {@code call}.
     *
     * @param requestId the id set in {@code request}
     * @param request   the request
     * @param call      completed by the answer, or exceptionally if the stream breaks
     * @return false if the stream is broken or full (nothing was registered)
     */
    public boolean send(long requestId, DataRequest request, PendingCall call) {
        synchronized (lock) {
            if (broken || pending.size() >= maxInFlight) {
                return false;
            }
            pending.put(requestId, call);
            if (backlog.isEmpty() && requests.isReady()) {
                requests.onNext(request);
            } else {
                backlog.addLast(request);
            }
        }
        return true;
    }

    private void drain() {
        synchronized (lock) {
            DataRequest next;
            while (!broken && requests.isReady() && (next = backlog.pollFirst()) != null) {
                requests.onNext(next);
            }
        }
    }

    /**
     * Whether the stream is broken (no more sends).
     *
     * @return true once it failed or was closed
     */
    public boolean isBroken() {
        return brokenFlag;
    }

    /**
     * Whether the stream is full (at its in-flight bound).
     *
     * @return true if a send would be refused for lack of room
     */
    public boolean isFull() {
        return pending.size() >= maxInFlight;
    }

    /**
     * The gRPC status the stream failed with.
     *
     * @return the status, or {@code null} while it is healthy
     */
    public Status failure() {
        return failure;
    }

    /**
     * Fails the pending calls whose deadline has passed.
     *
     * @param nowNs the current {@link System#nanoTime()}
     */
    public void expire(long nowNs) {
        for (Map.Entry<Long, PendingCall> entry : pending.entrySet()) {
            PendingCall call = entry.getValue();
            if (nowNs - call.deadlineNs() >= 0 && pending.remove(entry.getKey(), call)) {
                call.completeExceptionally(new DeadlineExceededException(
                        "no answer from master " + address + " before the deadline", null));
            }
        }
    }

    /**
     * How many requests wait for an answer.
     *
     * @return pending requests
     */
    public int pendingCount() {
        return pending.size();
    }

    @Override
    public void onNext(DataResponse response) {
        PendingCall call = pending.remove(response.getRequestId());
        if (call != null) {
            call.complete(response);
        }
    }

    @Override
    public void onError(Throwable t) {
        breakStream(Status.fromThrowable(t), false);
    }

    @Override
    public void onCompleted() {
        breakStream(Status.UNAVAILABLE.withDescription("master " + address + " ended the stream"), false);
    }

    /** Closes the stream from this side; pending calls fail as retriable. */
    public void close() {
        breakStream(Status.CANCELLED.withDescription("stream closed by the client"), true);
    }

    private void breakStream(Status status, boolean cancel) {
        synchronized (lock) {
            if (broken) {
                return;
            }
            broken = true;
            brokenFlag = true;
            failure = status;
            backlog.clear();
            if (cancel) {
                requests.cancel(status.getDescription(), null);
            }
        }
        onBroken.accept(this);
        RetriableException error = new RetriableException(
                "stream to master " + address + " broke: " + status, status.asRuntimeException());
        for (Long id : pending.keySet()) {
            PendingCall call = pending.remove(id);
            if (call != null) {
                call.completeExceptionally(error);
            }
        }
    }
}
