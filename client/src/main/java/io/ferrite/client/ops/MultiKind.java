package io.ferrite.client.ops;

import io.ferrite.client.Condition;
import io.ferrite.client.ObjectValue;
import io.ferrite.client.OpResult;
import io.ferrite.client.Outcome;
import io.ferrite.client.RemoveOp;
import io.ferrite.client.WriteOp;
import io.ferrite.proto.v1.DataRequest;
import io.ferrite.proto.v1.DataResponse;
import io.ferrite.proto.v1.MultiReadRequest;
import io.ferrite.proto.v1.MultiRemoveRequest;
import io.ferrite.proto.v1.MultiWriteRequest;
import io.ferrite.proto.v1.ReadRequest;
import io.ferrite.proto.v1.ReadResponse;
import io.ferrite.proto.v1.RejectRules;
import io.ferrite.proto.v1.RemoveRequest;
import io.ferrite.proto.v1.RemoveResponse;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.WriteRequest;
import io.ferrite.proto.v1.WriteResponse;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;

import java.util.List;
import java.util.Optional;

/**
 * How one kind of multi-operation builds a request for some of its items and reads each
 * item's answer.
 *
 * @param <I> the item type
 * @param <R> the per-item result type
 */
public interface MultiKind<I, R> {
    /** Multi-read: items are keys, results are optional values. */
    MultiKind<byte[], Optional<ObjectValue>> READ = new MultiKind<>() {
        @Override
        public byte[] key(byte[] item) {
            return item;
        }

        @Override
        public int sizeBytes(byte[] item) {
            return item.length;
        }

        @Override
        public DataRequest.Builder request(long tableId, List<byte[]> items, int[] indexes) {
            MultiReadRequest.Builder b = MultiReadRequest.newBuilder();
            for (int i : indexes) {
                b.addItems(ReadRequest.newBuilder().setTableId(tableId).setKey(bytes(items.get(i))));
            }
            return DataRequest.newBuilder().setMultiRead(b);
        }

        @Override
        public int answers(DataResponse response) {
            return response.hasMultiRead() ? response.getMultiRead().getItemsCount() : -1;
        }

        @Override
        public Status status(DataResponse response, int j) {
            return response.getMultiRead().getItems(j).getStatus();
        }

        @Override
        public Optional<ObjectValue> result(DataResponse response, int j, byte[] item) {
            ReadResponse r = response.getMultiRead().getItems(j);
            return switch (r.getStatus()) {
                case OK -> Optional.of(new ObjectValue(item, r.getValue().toByteArray(), r.getVersion(),
                        r.getTimestampSeconds()));
                case OBJECT_DOESNT_EXIST -> Optional.empty();
                default -> throw Failures.toException(r.getStatus(), r.getVersion(), r.getMessage(), "multiRead");
            };
        }
    };

    /** Multi-write: items are {@link WriteOp}s, results {@link OpResult}s. */
    MultiKind<WriteOp, OpResult> WRITE = new MultiKind<>() {
        @Override
        public byte[] key(WriteOp item) {
            return item.key();
        }

        @Override
        public int sizeBytes(WriteOp item) {
            return item.key().length + item.value().length;
        }

        @Override
        public DataRequest.Builder request(long tableId, List<WriteOp> items, int[] indexes) {
            MultiWriteRequest.Builder b = MultiWriteRequest.newBuilder();
            for (int i : indexes) {
                WriteOp op = items.get(i);
                WriteRequest.Builder w = WriteRequest.newBuilder().setTableId(tableId).setKey(bytes(op.key()))
                        .setValue(bytes(op.value()));
                if (!op.condition().isNone()) {
                    w.setRejectRules(rules(op.condition()));
                }
                b.addItems(w);
            }
            return DataRequest.newBuilder().setMultiWrite(b);
        }

        @Override
        public int answers(DataResponse response) {
            return response.hasMultiWrite() ? response.getMultiWrite().getItemsCount() : -1;
        }

        @Override
        public Status status(DataResponse response, int j) {
            return response.getMultiWrite().getItems(j).getStatus();
        }

        @Override
        public OpResult result(DataResponse response, int j, WriteOp item) {
            WriteResponse w = response.getMultiWrite().getItems(j);
            return opResult(w.getStatus(), w.getVersion(), w.getMessage(), "multiWrite");
        }
    };

    /** Multi-remove: items are {@link RemoveOp}s, results {@link OpResult}s. */
    MultiKind<RemoveOp, OpResult> REMOVE = new MultiKind<>() {
        @Override
        public byte[] key(RemoveOp item) {
            return item.key();
        }

        @Override
        public int sizeBytes(RemoveOp item) {
            return item.key().length;
        }

        @Override
        public DataRequest.Builder request(long tableId, List<RemoveOp> items, int[] indexes) {
            MultiRemoveRequest.Builder b = MultiRemoveRequest.newBuilder();
            for (int i : indexes) {
                RemoveOp op = items.get(i);
                RemoveRequest.Builder r = RemoveRequest.newBuilder().setTableId(tableId).setKey(bytes(op.key()));
                if (!op.condition().isNone()) {
                    r.setRejectRules(rules(op.condition()));
                }
                b.addItems(r);
            }
            return DataRequest.newBuilder().setMultiRemove(b);
        }

        @Override
        public int answers(DataResponse response) {
            return response.hasMultiRemove() ? response.getMultiRemove().getItemsCount() : -1;
        }

        @Override
        public Status status(DataResponse response, int j) {
            return response.getMultiRemove().getItems(j).getStatus();
        }

        @Override
        public OpResult result(DataResponse response, int j, RemoveOp item) {
            RemoveResponse r = response.getMultiRemove().getItems(j);
            return opResult(r.getStatus(), r.getVersion(), r.getMessage(), "multiRemove");
        }
    };

    /**
     * Wraps bytes without copying (the SDK does not modify callers' arrays).
     *
     * @param b the bytes
     * @return a ByteString over them
     */
    static ByteString bytes(byte[] b) {
        return UnsafeByteOperations.unsafeWrap(b);
    }

    /**
     * The wire reject rules of a condition.
     *
     * @param c the condition
     * @return the rules
     */
    static RejectRules rules(Condition c) {
        return RejectRules.newBuilder().setDoesntExist(c.rejectIfAbsent()).setExists(c.rejectIfExists())
                .setVersionLeGiven(c.rejectIfVersionAtMost()).setVersionNeGiven(c.rejectIfVersionNot())
                .setGivenVersion(c.version()).build();
    }

    private static OpResult opResult(Status status, long version, String message, String what) {
        return switch (status) {
            case OK -> new OpResult(Outcome.OK, version);
            case OBJECT_DOESNT_EXIST -> new OpResult(Outcome.OBJECT_NOT_FOUND, version);
            case OBJECT_EXISTS -> new OpResult(Outcome.OBJECT_EXISTS, version);
            case WRONG_VERSION -> new OpResult(Outcome.WRONG_VERSION, version);
            default -> throw Failures.toException(status, version, message, what);
        };
    }

    /**
     * The item's key (for routing).
     *
     * @param item an item
     * @return its key
     */
    byte[] key(I item);

    /**
     * The item's payload size (for splitting requests).
     *
     * @param item an item
     * @return key and value bytes
     */
    int sizeBytes(I item);

    /**
     * A request for some items.
     *
     * @param tableId the table
     * @param items   all items
     * @param indexes which of them, in this order
     * @return the operation
     */
    DataRequest.Builder request(long tableId, List<I> items, int[] indexes);

    /**
     * How many item answers a response has.
     *
     * @param response the answer
     * @return the count, or -1 if it answers another kind of operation
     */
    int answers(DataResponse response);

    /**
     * The status of the j-th item answer.
     *
     * @param response the answer
     * @param j        item position in the request
     * @return its status
     */
    Status status(DataResponse response, int j);

    /**
     * The result of the j-th item for a final status.
     *
     * @param response the answer
     * @param j        item position in the request
     * @param item     the item
     * @return its result
     * @throws io.ferrite.client.FerriteException for a status that fails the whole call
     */
    R result(DataResponse response, int j, I item);
}
