package io.ferrite.server.data;

import io.ferrite.proto.v1.DataRequest;
import io.ferrite.proto.v1.DataResponse;
import io.ferrite.server.metrics.ErrorReporter;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

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
 * <p>With replication, a request that wrote is answered only once its bytes are on the
 * backups ({@link Durability}); meanwhile the session keeps pulling requests, so writes that
 * arrive in the meantime join the next replication round (group commit). Answers then come
 * from the replication thread as well as the transport's, so every use of the outbound
 * observer and the flow-control fields holds {@link #lock}.
 */
final class StreamSession implements StreamObserver<DataRequest>, Runnable {
    /** Requests pulled from the transport ahead of the responses. */
    static final int WINDOW = 64;

    private final DataHandler handler;
    private final ErrorReporter errors;
    private final Durability durability;
    private final ServerCallStreamObserver<DataResponse> out;
    private final Object lock = new Object();
    /** Requests answered while the outbound side was not ready, to pull once it is. */
    private int owed;
    private boolean ended;
    /** Writes waiting for their replication before they are answered. */
    private int awaitingDurability;
    /** The client half-closed while writes were waiting: complete after the last answer. */
    private boolean completeWhenAnswered;

    StreamSession(DataHandler handler, ErrorReporter errors, Durability durability,
                  ServerCallStreamObserver<DataResponse> out) {
        this.handler = handler;
        this.errors = errors;
        this.durability = durability;
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
        DataResponse response;
        long segment;
        int length;
        try {
            handler.beginRequest();
            response = dispatch(request);
            segment = handler.appendSegmentId();
            length = handler.appendLength();
        } catch (RuntimeException e) {
            errors.report("data.stream", e);
            synchronized (lock) {
                ended = true;
                out.onError(io.grpc.Status.INTERNAL.withDescription("request " + request.getRequestId() + " failed: "
                        + e).asRuntimeException());
            }
            return;
        }
        if (durability == null || segment < 0) {
            answer(response, true);
            return;
        }
        // Keep pulling while this write's bytes travel to the backups: the next writes join the next round.
        synchronized (lock) {
            if (!ended) {
                awaitingDurability++;
                out.request(1);
            }
        }
        durability.whenDurable(segment, length).whenComplete((done, failure) -> {
            if (failure != null) {
                synchronized (lock) {
                    if (!ended) {
                        ended = true;
                        out.onError(io.grpc.Status.UNAVAILABLE.withDescription("replication stopped: " + failure)
                                .asRuntimeException());
                    }
                }
            } else {
                answer(response, false);
            }
        });
    }

    /** Sends a response; {@code pull} asks for the next request (unless it was asked for already). */
    private void answer(DataResponse response, boolean pull) {
        synchronized (lock) {
            if (ended) {
                return;
            }
            out.onNext(response);
            if (!pull) {
                if (--awaitingDurability == 0 && completeWhenAnswered) {
                    ended = true;
                    out.onCompleted();
                }
                return;
            }
            if (out.isReady()) {
                out.request(1);
            } else {
                owed++;
            }
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
            if (!ended && awaitingDurability > 0) {
                completeWhenAnswered = true;
            } else if (!ended) {
                ended = true;
                out.onCompleted();
            }
        }
    }
}
