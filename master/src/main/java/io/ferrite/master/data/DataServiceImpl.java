package io.ferrite.master.data;

import io.ferrite.master.ObjectManager;
import io.ferrite.master.tablet.TabletSet;
import io.ferrite.proto.v1.DataRequest;
import io.ferrite.proto.v1.DataResponse;
import io.ferrite.proto.v1.DataServiceGrpc;
import io.ferrite.proto.v1.EnumerateRequest;
import io.ferrite.proto.v1.EnumerateResponse;
import io.ferrite.proto.v1.IncrementRequest;
import io.ferrite.proto.v1.IncrementResponse;
import io.ferrite.proto.v1.MultiReadRequest;
import io.ferrite.proto.v1.MultiReadResponse;
import io.ferrite.proto.v1.MultiRemoveRequest;
import io.ferrite.proto.v1.MultiRemoveResponse;
import io.ferrite.proto.v1.MultiWriteRequest;
import io.ferrite.proto.v1.MultiWriteResponse;
import io.ferrite.proto.v1.ReadRequest;
import io.ferrite.proto.v1.ReadResponse;
import io.ferrite.proto.v1.RemoveRequest;
import io.ferrite.proto.v1.RemoveResponse;
import io.ferrite.proto.v1.WriteRequest;
import io.ferrite.proto.v1.WriteResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.function.Function;

/**
 * The master's {@code DataService}: unary calls, the Enumerate server stream and the
 * multiplexed Stream. Expected outcomes are statuses in the responses ({@link DataHandler});
 * only a fault inside the server becomes a gRPC error (INTERNAL), counted and logged once.
 */
public final class DataServiceImpl extends DataServiceGrpc.DataServiceImplBase {
    private final DataHandler handler;
    private final ObjectManager engine;
    private final TabletSet tablets;
    private final ServingLease lease;
    private final DataMetrics metrics;
    private final FaultReporter errors;
    /** Holds answers until what they depend on is durable (at once without replication). */
    private final DurabilityGate gate;

    public DataServiceImpl(ObjectManager engine, TabletSet tablets, ServingLease lease, DataMetrics metrics,
                           FaultReporter errors, Durability durability) {
        this.handler = new DataHandler(engine, lease, metrics);
        this.gate = new DurabilityGate(durability);
        this.engine = engine;
        this.tablets = tablets;
        this.lease = lease;
        this.metrics = metrics;
        this.errors = errors;
    }

    @Override
    public void read(ReadRequest request, StreamObserver<ReadResponse> out) {
        unary("data.read", request, handler::read, false, DataHandler::busyRead, out);
    }

    @Override
    public void write(WriteRequest request, StreamObserver<WriteResponse> out) {
        unary("data.write", request, handler::write, true, DataHandler::busyWrite, out);
    }

    @Override
    public void remove(RemoveRequest request, StreamObserver<RemoveResponse> out) {
        unary("data.remove", request, handler::remove, true, DataHandler::busyRemove, out);
    }

    @Override
    public void increment(IncrementRequest request, StreamObserver<IncrementResponse> out) {
        unary("data.increment", request, handler::increment, true, DataHandler::busyIncrement, out);
    }

    @Override
    public void multiRead(MultiReadRequest request, StreamObserver<MultiReadResponse> out) {
        unary("data.multi_read", request, handler::multiRead, false, () -> DataHandler.busy(request), out);
    }

    @Override
    public void multiWrite(MultiWriteRequest request, StreamObserver<MultiWriteResponse> out) {
        unary("data.multi_write", request, handler::multiWrite, true, () -> DataHandler.busy(request), out);
    }

    @Override
    public void multiRemove(MultiRemoveRequest request, StreamObserver<MultiRemoveResponse> out) {
        unary("data.multi_remove", request, handler::multiRemove, true, () -> DataHandler.busy(request), out);
    }

    @Override
    public void enumerate(EnumerateRequest request, StreamObserver<EnumerateResponse> out) {
        new EnumerateCall(engine, tablets, lease, metrics, errors, gate, request,
                (ServerCallStreamObserver<EnumerateResponse>) out).start(request);
    }

    @Override
    public StreamObserver<DataRequest> stream(StreamObserver<DataResponse> out) {
        return new StreamSession(handler, errors, gate, (ServerCallStreamObserver<DataResponse>) out);
    }

    /** The bound on answers waiting for replication, and what is known durable (tests, gauges). */
    public DurabilityGate durabilityGate() {
        return gate;
    }

    /**
     * Runs one unary call and answers once what the answer depends on is durable. A mutation
     * takes a waiting slot before it runs, a read before its answer waits; without one the call
     * is answered {@code busy} (RETRY, nothing done).
     */
    private <Q, R> void unary(String where, Q request, Function<Q, R> operation, boolean mutates,
                              java.util.function.Supplier<R> busy, StreamObserver<R> out) {
        boolean reserved = false;
        if (mutates && gate.replicated()) {
            reserved = gate.tryReserve();
            if (!reserved) {
                out.onNext(busy.get());
                out.onCompleted();
                return;
            }
        }
        R response;
        long position;
        try {
            handler.beginRequest();
            response = operation.apply(request);
            position = handler.awaitPosition();
        } catch (RuntimeException e) {
            if (reserved) {
                gate.release();
            }
            errors.report(where, e);
            out.onError(io.grpc.Status.INTERNAL.withDescription(where + " failed: " + e).asRuntimeException());
            return;
        }
        if (gate.isDurable(position)) {
            if (reserved) {
                gate.release();
            }
            out.onNext(response);
            out.onCompleted();
            return;
        }
        if (!reserved && !gate.tryReserve()) {
            out.onNext(busy.get());
            out.onCompleted();
            return;
        }
        gate.whenDurable(position).whenComplete((done, failure) -> {
            gate.release();
            if (failure != null) {
                out.onError(io.grpc.Status.UNAVAILABLE.withDescription(where + ": replication stopped: " + failure)
                        .asRuntimeException());
            } else {
                gate.learned(position);
                out.onNext(response);
                out.onCompleted();
            }
        });
    }
}
