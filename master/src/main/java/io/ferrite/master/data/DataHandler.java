package io.ferrite.master.data;

import com.google.protobuf.ByteString;
import io.ferrite.master.ObjectManager;
import io.ferrite.master.ObjectResult;
import io.ferrite.master.data.DataMetrics.Op;
import io.ferrite.proto.KeyHash;
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
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.WriteRequest;
import io.ferrite.proto.v1.WriteResponse;

/**
 * The object operations of the data service, shared by the unary calls and the multiplexed
 * stream: validate at the edge, refuse when the lease is not confirmed (fencing), run the
 * engine, map its status, count and time. Expected outcomes are statuses in the response;
 * nothing here throws on bad input. Thread-safe: each thread has its own {@link ObjectResult}.
 */
public final class DataHandler {
    private final ObjectManager engine;
    private final ServingLease lease;
    private final DataMetrics metrics;
    private final ThreadLocal<ObjectResult> results = ThreadLocal.withInitial(ObjectResult::new);

    public DataHandler(ObjectManager engine, ServingLease lease, DataMetrics metrics) {
        this.engine = engine;
        this.lease = lease;
        this.metrics = metrics;
    }

    /** Forgets the last append of this thread's result (call before each request). */
    public void beginRequest() {
        results.get().clearAppended();
    }

    /**
     * The log position ({@link io.ferrite.master.LogPosition}) this thread's answers since
     * {@link #beginRequest()} depend on: what they appended or revealed; NONE if nothing.
     */
    public long awaitPosition() {
        return results.get().awaitPosition();
    }

    // ---- single-object calls ----

    public ReadResponse read(ReadRequest request) {
        long start = System.nanoTime();
        ReadResponse response = readItem(Op.READ, request, results.get());
        metrics.time(Op.READ, start, System.nanoTime());
        return response;
    }

    public WriteResponse write(WriteRequest request) {
        long start = System.nanoTime();
        WriteResponse response = writeItem(Op.WRITE, request, results.get());
        metrics.time(Op.WRITE, start, System.nanoTime());
        return response;
    }

    public RemoveResponse remove(RemoveRequest request) {
        long start = System.nanoTime();
        RemoveResponse response = removeItem(Op.REMOVE, request, results.get());
        metrics.time(Op.REMOVE, start, System.nanoTime());
        return response;
    }

    public IncrementResponse increment(IncrementRequest request) {
        long start = System.nanoTime();
        IncrementResponse response = incrementItem(request, results.get());
        metrics.time(Op.INCREMENT, start, System.nanoTime());
        return response;
    }

    // ---- multi-object calls: items are independent ----

    public MultiReadResponse multiRead(MultiReadRequest request) {
        long start = System.nanoTime();
        ObjectResult result = results.get();
        MultiReadResponse.Builder response = MultiReadResponse.newBuilder();
        String tooMany = Limits.checkItems(request.getItemsCount());
        if (tooMany != null) {
            metrics.count(Op.MULTI_READ, Status.INVALID_ARGUMENT);
            ReadResponse refused = ReadResponse.newBuilder().setStatus(Status.INVALID_ARGUMENT).setMessage(tooMany).build();
            for (int i = 0; i < request.getItemsCount(); i++) {
                response.addItems(refused);
            }
            return response.build();
        }
        long valueBytes = 0;
        for (ReadRequest item : request.getItemsList()) {
            if (valueBytes > Limits.MULTI_READ_RESPONSE_BYTES) {
                metrics.count(Op.MULTI_READ, Status.RETRY);
                response.addItems(ReadResponse.newBuilder().setStatus(Status.RETRY).setMessage(
                        "the response reached " + Limits.MULTI_READ_RESPONSE_BYTES
                                + " value bytes; read this item in another call"));
                continue;
            }
            ReadResponse read = readItem(Op.MULTI_READ, item, result);
            valueBytes += read.getValue().size();
            response.addItems(read);
        }
        metrics.time(Op.MULTI_READ, start, System.nanoTime());
        return response.build();
    }

    public MultiWriteResponse multiWrite(MultiWriteRequest request) {
        long start = System.nanoTime();
        ObjectResult result = results.get();
        MultiWriteResponse.Builder response = MultiWriteResponse.newBuilder();
        String tooMany = Limits.checkItems(request.getItemsCount());
        if (tooMany != null) {
            metrics.count(Op.MULTI_WRITE, Status.INVALID_ARGUMENT);
            WriteResponse refused = WriteResponse.newBuilder().setStatus(Status.INVALID_ARGUMENT).setMessage(tooMany).build();
            for (int i = 0; i < request.getItemsCount(); i++) {
                response.addItems(refused);
            }
            return response.build();
        }
        for (WriteRequest item : request.getItemsList()) {
            response.addItems(writeItem(Op.MULTI_WRITE, item, result));
        }
        metrics.time(Op.MULTI_WRITE, start, System.nanoTime());
        return response.build();
    }

    public MultiRemoveResponse multiRemove(MultiRemoveRequest request) {
        long start = System.nanoTime();
        ObjectResult result = results.get();
        MultiRemoveResponse.Builder response = MultiRemoveResponse.newBuilder();
        String tooMany = Limits.checkItems(request.getItemsCount());
        if (tooMany != null) {
            metrics.count(Op.MULTI_REMOVE, Status.INVALID_ARGUMENT);
            RemoveResponse refused = RemoveResponse.newBuilder().setStatus(Status.INVALID_ARGUMENT).setMessage(tooMany).build();
            for (int i = 0; i < request.getItemsCount(); i++) {
                response.addItems(refused);
            }
            return response.build();
        }
        for (RemoveRequest item : request.getItemsList()) {
            response.addItems(removeItem(Op.MULTI_REMOVE, item, result));
        }
        metrics.time(Op.MULTI_REMOVE, start, System.nanoTime());
        return response.build();
    }

    // ---- one item each ----

    private ReadResponse readItem(Op op, ReadRequest request, ObjectResult result) {
        Refusal no = refuse(op, Limits.checkTableAndKey(request.getTableId(), request.getKey()));
        if (no != null) {
            return ReadResponse.newBuilder().setStatus(no.status()).setMessage(no.message()).build();
        }
        byte[] key = request.getKey().toByteArray();
        // A snapshot is immutable: its reads need no lease and wait for nothing (its cut was
        // durable before it was reported taken).
        Status status = request.getSnapshotId() != 0
                ? Statuses.toProto(engine.readSnapshot(request.getTableId(), request.getSnapshotId(), key, result))
                : fenced(Statuses.toProto(engine.read(request.getTableId(), key, result)));
        metrics.count(op, status);
        ReadResponse.Builder response = ReadResponse.newBuilder().setStatus(status);
        if (status == Status.OK) {
            response.setValue(ByteString.copyFrom(result.valueBuffer(), 0, result.valueLength()))
                    .setVersion(result.version())
                    .setTimestampSeconds(result.timestampSeconds());
        } else if (status == Status.UNKNOWN_TABLET || status == Status.RETRY) {
            response.setMessage(messageFor(status, request.getTableId(), key));
        } else if (status == Status.SNAPSHOT_DOESNT_EXIST) {
            response.setMessage("this server holds no snapshot " + request.getSnapshotId() + " of table "
                    + request.getTableId());
        }
        return response.build();
    }

    private WriteResponse writeItem(Op op, WriteRequest request, ObjectResult result) {
        String problem = Limits.checkTableAndKey(request.getTableId(), request.getKey());
        Refusal no = refuse(op, problem != null ? problem : Limits.checkValue(request.getValue()));
        if (no != null) {
            return WriteResponse.newBuilder().setStatus(no.status()).setMessage(no.message()).build();
        }
        byte[] key = request.getKey().toByteArray();
        Status status = fenced(Statuses.toProto(engine.write(request.getTableId(), key,
                request.getValue().toByteArray(), Statuses.toEngine(request.hasRejectRules(), request.getRejectRules()),
                result)));
        metrics.count(op, status);
        WriteResponse.Builder response = WriteResponse.newBuilder().setStatus(status);
        if (carriesVersion(status)) {
            response.setVersion(result.version());
        }
        String message = messageFor(status, request.getTableId(), key);
        if (message != null) {
            response.setMessage(message);
        }
        return response.build();
    }

    private RemoveResponse removeItem(Op op, RemoveRequest request, ObjectResult result) {
        Refusal no = refuse(op, Limits.checkTableAndKey(request.getTableId(), request.getKey()));
        if (no != null) {
            return RemoveResponse.newBuilder().setStatus(no.status()).setMessage(no.message()).build();
        }
        byte[] key = request.getKey().toByteArray();
        Status status = fenced(Statuses.toProto(engine.remove(request.getTableId(), key,
                Statuses.toEngine(request.hasRejectRules(), request.getRejectRules()), result)));
        metrics.count(op, status);
        RemoveResponse.Builder response = RemoveResponse.newBuilder().setStatus(status);
        if (carriesVersion(status)) {
            response.setVersion(result.version());
        }
        String message = messageFor(status, request.getTableId(), key);
        if (message != null) {
            response.setMessage(message);
        }
        return response.build();
    }

    private IncrementResponse incrementItem(IncrementRequest request, ObjectResult result) {
        String problem = Limits.checkTableAndKey(request.getTableId(), request.getKey());
        if (problem == null && request.getDeltaCase() == IncrementRequest.DeltaCase.DELTA_NOT_SET) {
            problem = "delta is missing (set int64_delta or double_delta)";
        }
        Refusal no = refuse(Op.INCREMENT, problem);
        if (no != null) {
            return IncrementResponse.newBuilder().setStatus(no.status()).setMessage(no.message()).build();
        }
        byte[] key = request.getKey().toByteArray();
        io.ferrite.master.RejectRules rules = Statuses.toEngine(request.hasRejectRules(), request.getRejectRules());
        boolean isDouble = request.getDeltaCase() == IncrementRequest.DeltaCase.DOUBLE_DELTA;
        io.ferrite.master.Status engineStatus = isDouble
                ? engine.incrementDouble(request.getTableId(), key, request.getDoubleDelta(), rules, result)
                : engine.incrementLong(request.getTableId(), key, request.getInt64Delta(), rules, result);
        Status status = fenced(Statuses.toProto(engineStatus));
        metrics.count(Op.INCREMENT, status);
        IncrementResponse.Builder response = IncrementResponse.newBuilder().setStatus(status);
        if (status == Status.OK) {
            response.setVersion(result.version());
            if (isDouble) {
                response.setDoubleValue(result.doubleValue());
            } else {
                response.setInt64Value(result.longValue());
            }
        } else {
            if (carriesVersion(status)) {
                response.setVersion(result.version());
            }
            String message = messageFor(status, request.getTableId(), key);
            if (message != null) {
                response.setMessage(message);
            }
        }
        return response.build();
    }

    // ---- refusals and messages ----

    /** Why an item does not run, and what its answer says. */
    private record Refusal(Status status, String message) {
    }

    /**
     * Whether an item may run: not if its arguments break a rule ({@code problem}, null when
     * none) or the lease is not valid. A refusal is counted under {@code op}.
     */
    private Refusal refuse(Op op, String problem) {
        Refusal no = problem != null ? new Refusal(Status.INVALID_ARGUMENT, problem)
                : lease.isValid() ? null : new Refusal(refusal(), refusalMessage());
        if (no != null) {
            metrics.count(op, no.status());
        }
        return no;
    }

    /**
     * The engine checks ownership (tablets and lease, see {@code TabletSet.whileServing}) under
     * its append lock and says UNKNOWN_TABLET when the lease lapsed after {@link #refuse}: answer
     * as a lease refusal then (RETRY while suspended).
     */
    private Status fenced(Status status) {
        return status == Status.UNKNOWN_TABLET && !lease.isValid() ? refusal() : status;
    }

    /** An answer for a request refused because too many answers wait for replication (nothing ran). */
    static io.ferrite.proto.v1.DataResponse busy(io.ferrite.proto.v1.DataRequest request) {
        io.ferrite.proto.v1.DataResponse.Builder response = io.ferrite.proto.v1.DataResponse.newBuilder()
                .setRequestId(request.getRequestId());
        switch (request.getOpCase()) {
            case READ -> response.setRead(ReadResponse.newBuilder().setStatus(Status.RETRY).setMessage(BUSY));
            case WRITE -> response.setWrite(WriteResponse.newBuilder().setStatus(Status.RETRY).setMessage(BUSY));
            case REMOVE -> response.setRemove(RemoveResponse.newBuilder().setStatus(Status.RETRY).setMessage(BUSY));
            case INCREMENT -> response.setIncrement(IncrementResponse.newBuilder().setStatus(Status.RETRY)
                    .setMessage(BUSY));
            case MULTI_READ -> response.setMultiRead(busy(request.getMultiRead()));
            case MULTI_WRITE -> response.setMultiWrite(busy(request.getMultiWrite()));
            case MULTI_REMOVE -> response.setMultiRemove(busy(request.getMultiRemove()));
            case OP_NOT_SET -> {
                // Nothing to refuse.
            }
        }
        return response.build();
    }

    static final String BUSY = "too many answers are waiting for replication on this server; nothing was done, retry";

    static ReadResponse busyRead() {
        return ReadResponse.newBuilder().setStatus(Status.RETRY).setMessage(BUSY).build();
    }

    static WriteResponse busyWrite() {
        return WriteResponse.newBuilder().setStatus(Status.RETRY).setMessage(BUSY).build();
    }

    static RemoveResponse busyRemove() {
        return RemoveResponse.newBuilder().setStatus(Status.RETRY).setMessage(BUSY).build();
    }

    static IncrementResponse busyIncrement() {
        return IncrementResponse.newBuilder().setStatus(Status.RETRY).setMessage(BUSY).build();
    }

    static MultiReadResponse busy(MultiReadRequest request) {
        MultiReadResponse.Builder response = MultiReadResponse.newBuilder();
        for (int i = 0; i < request.getItemsCount(); i++) {
            response.addItems(busyRead());
        }
        return response.build();
    }

    static MultiWriteResponse busy(MultiWriteRequest request) {
        MultiWriteResponse.Builder response = MultiWriteResponse.newBuilder();
        for (int i = 0; i < request.getItemsCount(); i++) {
            response.addItems(busyWrite());
        }
        return response.build();
    }

    static MultiRemoveResponse busy(MultiRemoveRequest request) {
        MultiRemoveResponse.Builder response = MultiRemoveResponse.newBuilder();
        for (int i = 0; i < request.getItemsCount(); i++) {
            response.addItems(busyRemove());
        }
        return response.build();
    }

    /** Whether the request may change data (it must hold a waiting slot before it runs). */
    static boolean mutates(io.ferrite.proto.v1.DataRequest request) {
        return switch (request.getOpCase()) {
            case WRITE, REMOVE, INCREMENT, MULTI_WRITE, MULTI_REMOVE -> true;
            case READ, MULTI_READ, OP_NOT_SET -> false;
        };
    }

    /** Whether the engine set the result's version for this outcome (the new or the current one). */
    private static boolean carriesVersion(Status status) {
        return status == Status.OK || status == Status.WRONG_VERSION || status == Status.OBJECT_EXISTS
                || status == Status.OBJECT_DOESNT_EXIST;
    }

    /**
     * What a request gets while the lease is not valid: RETRY while it may be confirmed again
     * (ZooKeeper suspended, heartbeat lease lapsed), UNKNOWN_TABLET when the tablets are not
     * served here any more (lost, deposed: refresh the tablet map) or not yet (starting).
     */
    private Status refusal() {
        return lease.refusalIsTemporary() ? Status.RETRY : Status.UNKNOWN_TABLET;
    }

    private String refusalMessage() {
        return lease.refusalReason();
    }

    /** {@link #message}, or the lease's reason when the engine refused because the lease lapsed. */
    private String messageFor(Status status, long tableId, byte[] key) {
        return (status == Status.UNKNOWN_TABLET || status == Status.RETRY) && !lease.isValid()
                ? refusalMessage() : message(status, tableId, key);
    }

    /** A message for the statuses that need one, else null. */
    private static String message(Status status, long tableId, byte[] key) {
        return switch (status) {
            case UNKNOWN_TABLET -> notOwned(tableId, key);
            case RETRY -> "memory is full until the cleaner frees some; nothing was written";
            case NOT_A_NUMBER -> "the object's value is not an 8-byte number";
            case SNAPSHOT_DOESNT_EXIST -> "no such snapshot of this table";
            case INVALID_ARGUMENT -> "the request breaks a limit";
            default -> null;
        };
    }

    private static String notOwned(long tableId, byte[] key) {
        return "this server owns no tablet of table " + tableId + " holding key hash "
                + Long.toUnsignedString(KeyHash.hash(key));
    }
}
