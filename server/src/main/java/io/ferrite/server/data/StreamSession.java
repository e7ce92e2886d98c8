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
 * <p>All callbacks arrive on the call's serialized executor, so the fields need no locking.
 */
final class StreamSession implements StreamObserver<DataRequest>, Runnable {
    /** Requests pulled from the transport ahead of the responses. */
    static final int WINDOW = 64;

    private final DataHandler handler;
    private final ErrorReporter errors;
    private final ServerCallStreamObserver<DataResponse> out;
    /** Requests answered while the outbound side was not ready, to pull once it is. */
    private int owed;
    private boolean ended;

    StreamSession(DataHandler handler, ErrorReporter errors, ServerCallStreamObserver<DataResponse> out) {
        this.handler = handler;
        this.errors = errors;
        this.out = out;
        out.disableAutoRequest();
        out.setOnCancelHandler(() -> ended = true);
        out.setOnReadyHandler(this);
        out.request(WINDOW);
    }

    @Override
    public void onNext(DataRequest request) {
        if (ended) {
            return;
        }
        DataResponse response;
        try {
            response = dispatch(request);
        } catch (RuntimeException e) {
            errors.report("data.stream", e);
            ended = true;
            out.onError(io.grpc.Status.INTERNAL.withDescription("request " + request.getRequestId() + " failed: " + e)
                    .asRuntimeException());
            return;
        }
        out.onNext(response);
        if (out.isReady()) {
            out.request(1);
        } else {
            owed++;
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
        if (!ended && owed > 0 && out.isReady()) {
            out.request(owed);
            owed = 0;
        }
    }

    @Override
    public void onError(Throwable t) {
        // The client went away or cancelled: nothing to answer.
        ended = true;
    }

    @Override
    public void onCompleted() {
        if (!ended) {
            ended = true;
            out.onCompleted();
        }
    }
}
