package io.ferrite.master.data;

import io.ferrite.proto.v1.DataRequest;
import io.ferrite.proto.v1.DataResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

/**
 * One multiplexed {@code Stream} call: each request is run as it arrives and answered with its
 * {@code request_id}. Inbound flow control is manual: the server asks the transport for more
 * requests only while its responses are being taken (the outbound side is ready), so a client
 * that sends without reading stalls itself instead of filling this server's memory with
 * responses. Up to {@link #WINDOW} requests are pulled ahead.
 *
 * <p>A request with no operation gets a response that carries only its {@code request_id}
 * (no operation set): the client must treat it as malformed. A failure inside the server ends
 * the stream with INTERNAL (the client reopens it); bad input never does.
 *
 * <p>With replication, an answer leaves only once the log position it depends on is durable
 * ({@link DurabilityGate}): a write's bytes, the entry a read returns, the tombstone behind a
 * "doesn't exist". Meanwhile the session keeps pulling requests, so writes that arrive in the
 * meantime join the next replication round (group commit) — but only while it has fewer than
 * {@link Limits#MAX_AWAITING_PER_STREAM} answers (and {@link Limits#MAX_AWAITING_BYTES_PER_STREAM}
 * bytes) waiting beyond its window: past that, a waiting answer keeps its window slot until it
 * leaves, so a client flooding one stream while backups stall is pushed back by gRPC's flow
 * control instead of growing this server's heap. Every request that may wait holds a slot of
 * the server-wide {@link DurabilityGate} bound; without one it is answered RETRY (a mutation
 * before it runs). Answers then come from the replication thread as well as the transport's,
 * so every use of the outbound observer and the flow-control fields holds {@link #lock}.
 */
final class StreamSession implements StreamObserver<DataRequest>, Runnable {
    /** Requests pulled from the transport ahead of the responses. */
    static final int WINDOW = 64;
    /** Answers larger than this are sent from a pool, not from the replication thread that made them durable. */
    private static final int LARGE_ANSWER_BYTES = 64 << 10;
    private static final Executor INLINE = Runnable::run;

    private final DataHandler handler;
    private final FaultReporter errors;
    private final DurabilityGate gate;
    private final ServerCallStreamObserver<DataResponse> out;
    private final Object lock = new Object();
    /** Pulls earned while the outbound side was not ready, to make once it is. */
    private int owed;
    private boolean ended;
    /** Answers waiting for durability. */
    private int awaiting;
    /** Of those, the ones that gave their window slot back at once, and their bytes. */
    private int awaitingExempt;
    private long awaitingExemptBytes;
    /** The client half-closed while answers were waiting: complete after the last answer. */
    private boolean completeWhenAnswered;

    StreamSession(DataHandler handler, FaultReporter errors, DurabilityGate gate,
                  ServerCallStreamObserver<DataResponse> out) {
        this.handler = handler;
        this.errors = errors;
        this.gate = gate;
        this.out = out;
        out.disableAutoRequest();
        out.setOnCancelHandler(() -> {
            synchronized (lock) {
                ended = true;
            }
        });
        out.setOnReadyHandler(this);
        out.request(WINDOW);
    }

    @Override
    public void onNext(DataRequest request) {
        synchronized (lock) {
            if (ended) {
                return;
            }
        }
        boolean reserved = false;
        if (gate.replicated() && DataHandler.mutates(request)) {
            reserved = gate.tryReserve();
            if (!reserved) {
                answer(DataHandler.busy(request));
                return;
            }
        }
        DataResponse response;
        long position;
        try {
            handler.beginRequest();
            response = dispatch(request);
            position = handler.awaitPosition();
        } catch (RuntimeException e) {
            if (reserved) {
                gate.release();
            }
            errors.report("data.stream", e);
            synchronized (lock) {
                ended = true;
                out.onError(io.grpc.Status.INTERNAL.withDescription("request " + request.getRequestId() + " failed: "
                        + e).asRuntimeException());
            }
            return;
        }
        if (gate.isDurable(position)) {
            if (reserved) {
                gate.release();
            }
            answer(response);
            return;
        }
        if (!reserved && !gate.tryReserve()) {
            answer(DataHandler.busy(request)); // a read: nothing ran that needs undoing
            return;
        }
        await(response, position);
    }

    /** Holds {@code response} until {@code position} is durable; the caller reserved a gate slot. */
    private void await(DataResponse response, long position) {
        int size = response.getSerializedSize();
        boolean exempt;
        synchronized (lock) {
            awaiting++;
            exempt = awaitingExempt < Limits.MAX_AWAITING_PER_STREAM
                    && awaitingExemptBytes + size <= Limits.MAX_AWAITING_BYTES_PER_STREAM;
            if (exempt) {
                // Keep pulling while these bytes travel to the backups: the next writes join the next round.
                awaitingExempt++;
                awaitingExemptBytes += size;
                pull(1);
            }
        }
        Executor sender = size > LARGE_ANSWER_BYTES ? ForkJoinPool.commonPool() : INLINE;
        gate.whenDurable(position).whenCompleteAsync((done, failure) -> {
            gate.release();
            if (failure != null) {
                synchronized (lock) {
                    if (!ended) {
                        ended = true;
                        out.onError(io.grpc.Status.UNAVAILABLE.withDescription("replication stopped: " + failure)
                                .asRuntimeException());
                    }
                }
                return;
            }
            gate.learned(position);
            answerAwaited(response, exempt, size);
        }, sender);
    }

    /** Sends an answer that did not wait, and earns the next pull. */
    private void answer(DataResponse response) {
        synchronized (lock) {
            if (ended) {
                return;
            }
            out.onNext(response);
            pull(1);
        }
    }

    /** Sends an answer that waited for durability; one that kept its window slot gives it back now. */
    private void answerAwaited(DataResponse response, boolean exempt, int size) {
        synchronized (lock) {
            awaiting--;
            if (exempt) {
                awaitingExempt--;
                awaitingExemptBytes -= size;
            }
            if (ended) {
                return;
            }
            out.onNext(response);
            if (!exempt) {
                pull(1);
            }
            if (awaiting == 0 && completeWhenAnswered) {
                ended = true;
                out.onCompleted();
            }
        }
    }

    /** Asks for {@code n} more requests now if the outbound side is ready, else once it is. Holds the lock. */
    private void pull(int n) {
        owed += n;
        if (!ended && out.isReady()) {
            out.request(owed);
            owed = 0;
        }
    }

    /** Answers waiting for durability on this stream (tests, gauges). */
    int awaiting() {
        synchronized (lock) {
            return awaiting;
        }
    }

    private DataResponse dispatch(DataRequest request) {
        DataResponse.Builder response = DataResponse.newBuilder().setRequestId(request.getRequestId());
        switch (request.getOpCase()) {
            case READ -> response.setRead(handler.read(request.getRead()));
            case WRITE -> response.setWrite(handler.write(request.getWrite()));
            case REMOVE -> response.setRemove(handler.remove(request.getRemove()));
            case INCREMENT -> response.setIncrement(handler.increment(request.getIncrement()));
            case MULTI_READ -> response.setMultiRead(handler.multiRead(request.getMultiRead()));
            case MULTI_WRITE -> response.setMultiWrite(handler.multiWrite(request.getMultiWrite()));
            case MULTI_REMOVE -> response.setMultiRemove(handler.multiRemove(request.getMultiRemove()));
            case OP_NOT_SET -> {
                // Nothing to run; the bare request id tells the client which request was malformed.
            }
        }
        return response.build();
    }

    /** The outbound side became ready: pull the requests held back. */
    @Override
    public void run() {
        synchronized (lock) {
            if (!ended && owed > 0 && out.isReady()) {
                out.request(owed);
                owed = 0;
            }
        }
    }

    @Override
    public void onError(Throwable t) {
        // The client went away or cancelled: nothing to answer.
        synchronized (lock) {
            ended = true;
        }
    }

    @Override
    public void onCompleted() {
        synchronized (lock) {
            if (!ended && awaiting > 0) {
                completeWhenAnswered = true;
            } else if (!ended) {
                ended = true;
                out.onCompleted();
            }
        }
    }
}
