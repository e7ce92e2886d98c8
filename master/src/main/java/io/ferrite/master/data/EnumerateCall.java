package io.ferrite.master.data;

import com.google.protobuf.UnsafeByteOperations;
import io.ferrite.master.ObjectManager;
import io.ferrite.master.data.DataMetrics.Op;
import io.ferrite.master.tablet.TabletSet;
import io.ferrite.proto.v1.EnumerateRequest;
import io.ferrite.proto.v1.EnumerateResponse;
import io.ferrite.proto.v1.EnumeratedObject;
import io.ferrite.proto.v1.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.List;

/**
 * One Enumerate stream: every object of a table held here, in (hash, key) order, a batch per
 * message, each carrying the cursor of its last object. It follows the transport's flow
 * control: a batch is built only while the stream is ready (the client keeps up), and building
 * resumes from the ready callback, so a slow or stalled client holds at most one batch and the
 * transport's window in this server's memory. A cancelled stream stops at the next batch.
 *
 * <p>With replication, a batch leaves only once the log positions it depends on are durable
 * ({@link DurabilityGate}): its objects' entries, and the newest removal of any key (a batch
 * reveals that removed keys are gone). Meanwhile no further batch is built; the batch is sent
 * from a pool thread when durable, and building resumes there.
 *
 * <p>Runs on the call's serialized executor (the start and every ready callback) and, after a
 * wait for durability, on a pool thread; {@code synchronized} keeps it from running
 * concurrently with itself.
 */
final class EnumerateCall implements Runnable {
    /** Objects asked of the engine first; later chunks follow from the objects' observed size. */
    private static final int FIRST_CHUNK_OBJECTS = 16;
    private final ObjectManager engine;
    private final TabletSet tablets;
    private final ServingLease lease;
    private final DataMetrics metrics;
    private final FaultReporter errors;
    private final DurabilityGate gate;
    private final ServerCallStreamObserver<EnumerateResponse> out;
    private final long tableId;
    /** Non-zero: enumerate this snapshot's part held here (no lease, no durability wait). */
    private final long snapshotId;
    private final int batchObjects;
    private final BatchVisitor visitor = new BatchVisitor();
    private EnumerateCursor cursor;
    private boolean finished;
    /** A batch is waiting for durability: build no other until it is sent. */
    private boolean waiting;

    EnumerateCall(ObjectManager engine, TabletSet tablets, ServingLease lease, DataMetrics metrics, FaultReporter errors,
                  DurabilityGate gate, EnumerateRequest request, ServerCallStreamObserver<EnumerateResponse> out) {
        this.gate = gate;
        this.engine = engine;
        this.tablets = tablets;
        this.lease = lease;
        this.metrics = metrics;
        this.errors = errors;
        this.out = out;
        this.tableId = request.getTableId();
        this.snapshotId = request.getSnapshotId();
        int asked = request.getBatchObjects();
        this.batchObjects = asked == 0 ? Limits.DEFAULT_ENUMERATE_BATCH_OBJECTS
                : Math.min(asked, Limits.MAX_ENUMERATE_BATCH_OBJECTS);
        if (!request.getCursor().isEmpty()) {
            cursor = EnumerateCursor.decode(request.getCursor());
        }
    }

    /** Called in the service method: checks the request, hooks the callbacks, sends what it can. */
    synchronized void start(EnumerateRequest request) {
        out.setOnCancelHandler(() -> {
            synchronized (this) {
                finished = true;
            }
        });
        String problem = Limits.checkTable(tableId);
        if (problem == null && !request.getCursor().isEmpty() && cursor == null) {
            problem = "cursor is not one this server issued";
        }
        if (problem != null) {
            metrics.count(Op.ENUMERATE, Status.INVALID_ARGUMENT);
            end(Status.INVALID_ARGUMENT, problem);
            return;
        }
        out.setOnReadyHandler(this);
        run();
    }

    /** Sends batches while the stream is ready. */
    @Override
    public synchronized void run() {
        try {
            while (!finished && !waiting && !out.isCancelled() && out.isReady()) {
                sendBatch();
            }
        } catch (RuntimeException e) {
            if (!finished && !out.isCancelled()) {
                errors.report("data.enumerate", e);
                finished = true;
                try {
                    out.onError(io.grpc.Status.INTERNAL.withDescription("enumerate failed: " + e).asRuntimeException());
                } catch (RuntimeException ignored) {
                    // The call ended meanwhile; nothing left to tell.
                }
            }
        }
    }

    private void sendBatch() {
        long start = System.nanoTime();
        if (snapshotId != 0) {
            visitor.reset();
            Boolean done = fillFromSnapshot();
            if (done == null) {
                metrics.count(Op.ENUMERATE, Status.SNAPSHOT_DOESNT_EXIST);
                end(Status.SNAPSHOT_DOESNT_EXIST, "this server holds no snapshot " + snapshotId + " of table " + tableId);
                return;
            }
            send(batchResponse(done), visitor.objects.size(), done, start);
            return;
        }
        if (!lease.isValid()) {
            Status refusal = lease.refusalIsTemporary() ? Status.RETRY : Status.UNKNOWN_TABLET;
            metrics.count(Op.ENUMERATE, refusal);
            end(refusal, "this server cannot confirm its lease (" + lease.stateName() + "): " + lease.refusalReason());
            return;
        }
        List<TabletSet.Range> ranges = tablets.rangesOf(tableId);
        if (ranges.isEmpty()) {
            metrics.count(Op.ENUMERATE, Status.UNKNOWN_TABLET);
            end(Status.UNKNOWN_TABLET, "this server owns no tablet of table " + tableId);
            return;
        }
        visitor.reset();
        boolean done = fill(ranges);
        // After the pass: a key it found gone may have gone by a removal not yet durable.
        long position = Math.max(visitor.maxPosition, engine.newestRemovalPosition());
        EnumerateResponse batch = batchResponse(done);
        int objects = visitor.objects.size();
        if (gate.isDurable(position)) {
            send(batch, objects, done, start);
            return;
        }
        if (!gate.tryReserve()) {
            metrics.count(Op.ENUMERATE, Status.RETRY);
            end(Status.RETRY, DataHandler.BUSY);
            return;
        }
        waiting = true;
        gate.whenDurable(position).whenCompleteAsync((ok, failure) -> {
            gate.release();
            synchronized (this) {
                waiting = false;
                if (finished || out.isCancelled()) {
                    return;
                }
                if (failure != null) {
                    finished = true;
                    out.onError(io.grpc.Status.UNAVAILABLE.withDescription("replication stopped: " + failure)
                            .asRuntimeException());
                    return;
                }
                gate.learned(position);
                send(batch, objects, done, start);
            }
            run();
        });
    }

    /** The visitor's objects as one response, with the cursor after the last of them. */
    private EnumerateResponse batchResponse(boolean done) {
        EnumerateResponse.Builder response = EnumerateResponse.newBuilder().setStatus(Status.OK)
                .addAllObjects(visitor.objects).setDone(done);
        if (visitor.lastKey != null) {
            cursor = new EnumerateCursor(visitor.lastHash, visitor.lastKey);
        }
        if (cursor != null) {
            response.setCursor(cursor.encode());
        }
        return response.build();
    }

    /** Like {@link #fill}, from a snapshot; null if it is not held here. */
    private Boolean fillFromSnapshot() {
        int chunk = Math.min(batchObjects, FIRST_CHUNK_OBJECTS);
        long afterHash = cursor != null ? cursor.keyHash() : 0;
        byte[] afterKey = cursor != null ? cursor.key() : null;
        while (true) {
            int remaining = batchObjects - visitor.objects.size();
            int limit = Math.min(remaining, chunk);
            visitor.accepted = 0;
            int visited = engine.enumerateSnapshot(tableId, snapshotId, afterHash, afterKey, limit, visitor);
            if (visited < 0) {
                return null;
            }
            if (visitor.full || visitor.objects.size() >= batchObjects) {
                return false;
            }
            if (visited < limit) {
                return true;
            }
            afterHash = visitor.lastHash;
            afterKey = visitor.lastKey;
            chunk = visitor.nextChunk(remaining - visitor.accepted);
        }
    }

    private void send(EnumerateResponse batch, int objects, boolean done, long startNs) {
        metrics.count(Op.ENUMERATE, Status.OK);
        metrics.enumerated(objects);
        out.onNext(batch);
        metrics.time(Op.ENUMERATE, startNs, System.nanoTime());
        if (done) {
            finished = true;
            out.onCompleted();
        }
    }

    /**
     * Collects the next batch from the owned ranges after the cursor.
     *
     * @return whether every range is exhausted (the enumeration is complete)
     */
    private boolean fill(List<TabletSet.Range> ranges) {
        int chunk = Math.min(batchObjects, FIRST_CHUNK_OBJECTS);
        // One pass over every range: the cursor orders objects across ranges (cursor order is not
        // hash order), so the ranges cannot be enumerated one after the other.
        java.util.function.LongPredicate inRanges = hash -> {
            for (TabletSet.Range range : ranges) {
                if (Long.compareUnsigned(hash, range.startHash()) >= 0 && Long.compareUnsigned(hash, range.endHash()) <= 0) {
                    return true;
                }
            }
            return false;
        };
        long afterHash = visitor.lastKey != null ? visitor.lastHash : cursor != null ? cursor.keyHash() : 0;
        byte[] afterKey = visitor.lastKey != null ? visitor.lastKey : cursor != null ? cursor.key() : null;
        while (true) {
            int remaining = batchObjects - visitor.objects.size();
            int limit = Math.min(remaining, chunk);
            visitor.accepted = 0;
            int visited = engine.enumerate(tableId, inRanges, afterHash, afterKey, limit, visitor);
            if (visitor.full || visitor.objects.size() >= batchObjects) {
                return false;
            }
            if (visited < limit) {
                return true;
            }
            afterHash = visitor.lastHash;
            afterKey = visitor.lastKey;
            chunk = visitor.nextChunk(remaining - visitor.accepted);
        }
    }

    private void end(Status status, String message) {
        finished = true;
        if (out.isCancelled()) {
            return;
        }
        out.onNext(EnumerateResponse.newBuilder().setStatus(status).setMessage(message).build());
        out.onCompleted();
    }

    /**
     * Takes objects until the batch's byte budget is spent (always at least one), then ignores
     * the rest of the engine's chunk: those are visited again by the next batch, from the cursor.
     */
    private static final class BatchVisitor implements ObjectManager.ObjectVisitor {
        final java.util.ArrayList<EnumeratedObject> objects = new java.util.ArrayList<>();
        long bytes;
        int accepted;
        boolean full;
        /** The latest log position of an object taken into the batch. */
        long maxPosition;
        long lastHash;
        byte[] lastKey;

        void reset() {
            objects.clear();
            bytes = 0;
            full = false;
            lastKey = null;
            maxPosition = 0;
            taken = false;
        }

        @Override
        public void visit(byte[] key, byte[] value, long version, long timestampSeconds, long keyHash) {
            long size = key.length + value.length;
            if (full || (bytes > 0 && bytes + size > Limits.ENUMERATE_BATCH_BYTES)) {
                full = true;
                taken = false;
                return;
            }
            bytes += size;
            accepted++;
            taken = true;
            lastHash = keyHash;
            lastKey = key;
            objects.add(EnumeratedObject.newBuilder()
                    .setKey(UnsafeByteOperations.unsafeWrap(key))
                    .setValue(UnsafeByteOperations.unsafeWrap(value))
                    .setVersion(version)
                    .setTimestampSeconds(timestampSeconds)
                    .build());
        }

        /** Whether the object just visited was taken into the batch (its position then counts). */
        private boolean taken;

        @Override
        public void dependsOn(long position) {
            if (taken && position > maxPosition) {
                maxPosition = position;
            }
            taken = false;
        }

        /** Objects to ask the engine for next: about what the remaining byte budget holds. */
        int nextChunk(int remaining) {
            long average = objects.isEmpty() ? 1 : Math.max(1, bytes / objects.size());
            long fits = (Limits.ENUMERATE_BATCH_BYTES - bytes) / average + 1;
            return (int) Math.max(1, Math.min(remaining, Math.min(fits, 1_024)));
        }
    }
}
