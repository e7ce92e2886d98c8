package io.ferrite.client.transport;

import io.ferrite.client.FerriteException;
import io.ferrite.proto.v1.DataRequest;
import io.ferrite.proto.v1.DataResponse;
import io.ferrite.proto.v1.DataServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The client's link to one master: its channel, its current {@link DataStream} (opened on
 * first use and re-opened after a failure), and the unary calls used when streams are off or
 * the master does not implement them. Thread-safe.
 */
public final class MasterConnection implements AutoCloseable {
    private final String address;
    private final DataServiceGrpc.DataServiceStub stub;
    private final int maxInFlight;
    private final AtomicLong nextRequestId = new AtomicLong(1);
    private final AtomicLong streamsOpened = new AtomicLong();
    private final AtomicLong fullRefusals = new AtomicLong();
    private volatile boolean useStreams;
    private volatile DataStream stream;
    private volatile boolean closed;

    /**
     * Creates a connection; nothing is sent until the first call.
     *
     * @param address     host:port of the master
     * @param channel     the channel to it (owned by the {@link ChannelPool})
     * @param useStreams  whether to use a multiplexed stream
     * @param maxInFlight bound on pending requests on the stream
     */
    public MasterConnection(String address, ManagedChannel channel, boolean useStreams, int maxInFlight) {
        this.address = address;
        this.stub = DataServiceGrpc.newStub(channel);
        this.useStreams = useStreams;
        this.maxInFlight = maxInFlight;
    }

    /**
     * The master's address.
     *
     * @return host:port
     */
    public String address() {
        return address;
    }

    /**
     * How many streams this connection has opened (1 while healthy; more after failures).
     *
     * @return streams opened
     */
    public long streamsOpened() {
        return streamsOpened.get();
    }

    /**
     * How many requests were turned back (to retry after a backoff) because the stream had
     * {@code maxInFlight} requests pending.
     *
     * @return refusals so far
     */
    public long fullRefusals() {
        return fullRefusals.get();
    }

    /**
     * Whether operations go over the stream (false after the master answered
     * {@code UNIMPLEMENTED}, or when streams are off).
     *
     * @return true if streaming
     */
    public boolean usesStreams() {
        return useStreams;
    }

    /**
     * Sends one operation. The returned future completes on the transport's thread with the
     * answer, or exceptionally with a {@link RetriableException} (connection or stream failure,
     * stream full), a {@link DeadlineExceededException}, or a {@link FerriteException} for a
     * server fault.
     *
     * @param op         the operation (its request id is set here)
     * @param deadlineNs {@link System#nanoTime()} deadline of this attempt
     * @return the answer
     */
    public CompletableFuture<DataResponse> call(DataRequest.Builder op, long deadlineNs) {
        PendingCall call = new PendingCall(deadlineNs);
        if (closed) {
            call.completeExceptionally(new FerriteException("client is closed"));
            return call;
        }
        if (useStreams) {
            sendOnStream(op, call);
        } else {
            sendUnary(op.build(), call);
        }
        return call;
    }

    private void sendOnStream(DataRequest.Builder op, PendingCall call) {
        long id = nextRequestId.getAndIncrement();
        DataRequest request = op.setRequestId(id).build();
        for (int tries = 0; tries < 2; tries++) {
            DataStream s = currentStream();
            if (s.send(id, request, call)) {
                return;
            }
            if (!s.isBroken()) {
                fullRefusals.incrementAndGet();
                call.completeExceptionally(new RetriableException(
                        "stream to master " + address + " has " + maxInFlight + " requests in flight", null, false));
                return;
            }
        }
        call.completeExceptionally(new RetriableException("stream to master " + address + " keeps breaking", null));
    }

    private DataStream currentStream() {
        DataStream s = stream;
        if (s != null && !s.isBroken()) {
            return s;
        }
        synchronized (this) {
            s = stream;
            if (s == null || s.isBroken()) {
                s = new DataStream(address, maxInFlight, this::streamBroken);
                streamsOpened.incrementAndGet();
                stub.stream(s);
                stream = s;
            }
            return s;
        }
    }

    private void streamBroken(DataStream s) {
        Status failure = s.failure();
        if (failure != null && failure.getCode() == Status.Code.UNIMPLEMENTED) {
            useStreams = false;
        }
    }

    /**
     * Fails the stream's pending calls whose deadline passed (called by the client's sweeper).
     *
     * @param nowNs the current {@link System#nanoTime()}
     */
    public void expire(long nowNs) {
        DataStream s = stream;
        if (s != null) {
            s.expire(nowNs);
        }
    }

    private void sendUnary(DataRequest request, PendingCall call) {
        long remainingNs = call.deadlineNs() - System.nanoTime();
        if (remainingNs <= 0) {
            call.completeExceptionally(new DeadlineExceededException("deadline passed before sending", null));
            return;
        }
        DataServiceGrpc.DataServiceStub s = stub.withDeadlineAfter(remainingNs, TimeUnit.NANOSECONDS);
        long id = request.getRequestId();
        switch (request.getOpCase()) {
            case READ -> s.read(request.getRead(), new Unary<>(call,
                    r -> DataResponse.newBuilder().setRequestId(id).setRead(r).build()));
            case WRITE -> s.write(request.getWrite(), new Unary<>(call,
                    r -> DataResponse.newBuilder().setRequestId(id).setWrite(r).build()));
            case REMOVE -> s.remove(request.getRemove(), new Unary<>(call,
                    r -> DataResponse.newBuilder().setRequestId(id).setRemove(r).build()));
            case INCREMENT -> s.increment(request.getIncrement(), new Unary<>(call,
                    r -> DataResponse.newBuilder().setRequestId(id).setIncrement(r).build()));
            case MULTI_READ -> s.multiRead(request.getMultiRead(), new Unary<>(call,
                    r -> DataResponse.newBuilder().setRequestId(id).setMultiRead(r).build()));
            case MULTI_WRITE -> s.multiWrite(request.getMultiWrite(), new Unary<>(call,
                    r -> DataResponse.newBuilder().setRequestId(id).setMultiWrite(r).build()));
            case MULTI_REMOVE -> s.multiRemove(request.getMultiRemove(), new Unary<>(call,
                    r -> DataResponse.newBuilder().setRequestId(id).setMultiRemove(r).build()));
            case OP_NOT_SET -> call.completeExceptionally(new IllegalStateException("request without an operation"));
        }
    }

    /**
     * Maps a gRPC failure of a call: connection trouble is retriable, a deadline is a timeout,
     * anything else is a server fault.
     *
     * @param t       the failure
     * @param address the server's address (for the message)
     * @return the SDK-side exception
     */
    public static FerriteException mapFailure(Throwable t, String address) {
        Status status = Status.fromThrowable(t);
        return switch (status.getCode()) {
            case UNAVAILABLE, ABORTED -> new RetriableException("server " + address + " unavailable: " + status, t);
            case DEADLINE_EXCEEDED -> new DeadlineExceededException("server " + address + " did not answer in time", t);
            default -> new FerriteException("server " + address + " failed the call: " + status, t);
        };
    }

    /** Closes the stream (pending calls fail); the channel belongs to the pool. */
    @Override
    public void close() {
        closed = true;
        DataStream s = stream;
        if (s != null) {
            s.close();
        }
    }

    private final class Unary<T> implements StreamObserver<T> {
        private final PendingCall call;
        private final java.util.function.Function<T, DataResponse> wrap;

        Unary(PendingCall call, java.util.function.Function<T, DataResponse> wrap) {
            this.call = call;
            this.wrap = wrap;
        }

        @Override
        public void onNext(T value) {
            call.complete(wrap.apply(value));
        }

        @Override
        public void onError(Throwable t) {
            call.completeExceptionally(mapFailure(t, address));
        }

        @Override
        public void onCompleted() {
            if (!call.isDone()) {
                call.completeExceptionally(new RetriableException("server " + address + " sent no answer", null));
            }
        }
    }
}
