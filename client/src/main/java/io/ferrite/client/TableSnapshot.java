package io.ferrite.client;

import com.google.protobuf.ByteString;
import io.ferrite.client.ops.ClientRuntime;
import io.ferrite.client.ops.Failures;
import io.ferrite.proto.KeyHash;
import io.ferrite.proto.v1.DataServiceGrpc;
import io.ferrite.proto.v1.EnumerateRequest;
import io.ferrite.proto.v1.EnumerateResponse;
import io.ferrite.proto.v1.EnumeratedObject;
import io.ferrite.proto.v1.MultiReadRequest;
import io.ferrite.proto.v1.MultiReadResponse;
import io.ferrite.proto.v1.ReadRequest;
import io.ferrite.proto.v1.ReadResponse;
import io.ferrite.proto.v1.SnapshotInfo;
import io.ferrite.proto.v1.SnapshotState;
import io.ferrite.proto.v1.SnapshotTablet;
import io.ferrite.proto.v1.Status;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A point-in-time snapshot of a table, from {@link Table#snapshot()} or
 * {@link FerriteClient#snapshots(String)}: read, multi-read and enumerate what the table held
 * when it was taken, whatever was written or removed since (and even after the table was
 * dropped). Reads go to the masters that hold the snapshot's parts; they never wait for
 * durability (a snapshot is reported taken only once it is durable) and never change.
 *
 * <p>Snapshots do not yet survive the crash of a master holding a part: such a snapshot is
 * listed {@link #state() LOST}, and reading its keys on that part throws
 * {@link SnapshotNotFoundException}. Thread-safe.
 */
public final class TableSnapshot {
    private final ClientRuntime runtime;
    private final SnapshotInfo info;

    TableSnapshot(ClientRuntime runtime, SnapshotInfo info) {
        this.runtime = runtime;
        this.info = info;
    }

    /**
     * The table's id.
     *
     * @return the id
     */
    public long tableId() {
        return info.getTableId();
    }

    /**
     * The table's name when the snapshot was taken.
     *
     * @return the name
     */
    public String tableName() {
        return info.getTableName();
    }

    /**
     * The snapshot's id, unique and increasing within its table.
     *
     * @return the id
     */
    public long id() {
        return info.getSnapshotId();
    }

    /**
     * When it was taken (the leader coordinator's clock).
     *
     * @return the time
     */
    public Instant createdAt() {
        return Instant.ofEpochMilli(info.getCreatedAtMillis());
    }

    /**
     * COMPLETE, LOST (a holder crashed) or TAKING, as the coordinator answered.
     *
     * @return the state
     */
    public String state() {
        return info.getState().name();
    }

    /**
     * Whether autosave took it (its retention may drop it) rather than a request.
     *
     * @return true for an automatic snapshot
     */
    public boolean automatic() {
        return info.getAutomatic();
    }

    /**
     * Objects the table held when the snapshot was taken (from the masters' statistics).
     *
     * @return the count
     */
    public long objects() {
        return info.getObjects();
    }

    /**
     * Log bytes of those objects.
     *
     * @return bytes
     */
    public long bytes() {
        return info.getBytes();
    }

    /**
     * Reads a key as the snapshot holds it.
     *
     * @param key the key
     * @return the object, or empty if the snapshot holds no such key
     * @throws SnapshotNotFoundException if the snapshot (or the part holding this key) is gone
     */
    public Optional<ObjectValue> read(byte[] key) {
        return Failures.await(readAsync(key));
    }

    /**
     * Reads a UTF-8 key as the snapshot holds it.
     *
     * @param key the key
     * @return the object, or empty
     */
    public Optional<ObjectValue> read(String key) {
        return read(key.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Reads a key asynchronously.
     *
     * @param key the key
     * @return the object, or empty
     */
    public CompletableFuture<Optional<ObjectValue>> readAsync(byte[] key) {
        if (key == null || key.length == 0 || key.length > Table.MAX_KEY_BYTES) {
            return CompletableFuture.failedFuture(new InvalidArgumentException("key must be 1.." + Table.MAX_KEY_BYTES
                    + " bytes"));
        }
        String address;
        try {
            address = holder(key);
        } catch (FerriteException e) {
            return CompletableFuture.failedFuture(e);
        }
        ReadRequest request = ReadRequest.newBuilder().setTableId(tableId()).setSnapshotId(id())
                .setKey(ByteString.copyFrom(key)).build();
        CompletableFuture<ReadResponse> answer = new CompletableFuture<>();
        stub(address).read(request, observer(answer));
        return answer.thenApply(r -> toValue(key, r));
    }

    /**
     * Reads several keys as the snapshot holds them (one call per holding master).
     *
     * @param keys the keys
     * @return one result per key, in order
     */
    public List<Optional<ObjectValue>> multiRead(List<byte[]> keys) {
        Map<String, List<Integer>> byHolder = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            byHolder.computeIfAbsent(holder(keys.get(i)), a -> new ArrayList<>()).add(i);
        }
        List<Optional<ObjectValue>> results = new ArrayList<>(java.util.Collections.nCopies(keys.size(), null));
        Map<String, CompletableFuture<MultiReadResponse>> calls = new LinkedHashMap<>();
        for (Map.Entry<String, List<Integer>> entry : byHolder.entrySet()) {
            MultiReadRequest.Builder request = MultiReadRequest.newBuilder();
            for (int index : entry.getValue()) {
                request.addItems(ReadRequest.newBuilder().setTableId(tableId()).setSnapshotId(id())
                        .setKey(ByteString.copyFrom(keys.get(index))));
            }
            CompletableFuture<MultiReadResponse> answer = new CompletableFuture<>();
            stub(entry.getKey()).multiRead(request.build(), observer(answer));
            calls.put(entry.getKey(), answer);
        }
        for (Map.Entry<String, List<Integer>> entry : byHolder.entrySet()) {
            MultiReadResponse response = Failures.await(calls.get(entry.getKey()));
            List<Integer> indexes = entry.getValue();
            for (int i = 0; i < indexes.size(); i++) {
                int index = indexes.get(i);
                results.set(index, toValue(keys.get(index), response.getItems(i)));
            }
        }
        return results;
    }

    /**
     * Every object of the snapshot, part after part (each part in cursor order), fetched in
     * batches as the stream is consumed. Close the stream when stopping early.
     *
     * @return the objects
     * @throws SnapshotNotFoundException (when consumed) if a part is gone
     */
    public Stream<ObjectValue> stream() {
        List<String> holders = info.getTabletsList().stream().map(this::addressOf).distinct().toList();
        io.grpc.Context.CancellableContext context = io.grpc.Context.current().withCancellation();
        PartsIterator objects = new PartsIterator(holders, context);
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(objects, Spliterator.ORDERED
                | Spliterator.NONNULL), false).onClose(() -> context.cancel(null));
    }

    /**
     * The objects of every part, one response message at a time (a flat-mapped stream would
     * buffer a whole part when iterated: 43 M objects did not fit a 4 GB heap).
     */
    private final class PartsIterator implements Iterator<ObjectValue> {
        private final Iterator<String> holders;
        private final io.grpc.Context.CancellableContext context;
        private Iterator<EnumerateResponse> responses = java.util.Collections.emptyIterator();
        private Iterator<EnumeratedObject> batch = java.util.Collections.emptyIterator();

        PartsIterator(List<String> holders, io.grpc.Context.CancellableContext context) {
            this.holders = holders.iterator();
            this.context = context;
        }

        @Override
        public boolean hasNext() {
            try {
                return advance();
            } catch (io.grpc.StatusRuntimeException e) {
                throw new FerriteException("enumerate snapshot " + id() + " of table " + tableName() + " failed: "
                        + e.getStatus(), e);
            }
        }

        private boolean advance() {
            while (!batch.hasNext()) {
                if (responses.hasNext()) {
                    EnumerateResponse response = responses.next();
                    if (response.getStatus() == Status.SNAPSHOT_DOESNT_EXIST) {
                        throw new SnapshotNotFoundException("snapshot " + id() + " of table " + tableName() + ": "
                                + response.getMessage());
                    }
                    if (response.getStatus() != Status.OK) {
                        throw new FerriteException("enumerate snapshot " + id() + ": " + response.getStatus() + " "
                                + response.getMessage());
                    }
                    batch = response.getObjectsList().iterator();
                } else if (holders.hasNext()) {
                    String address = holders.next();
                    io.grpc.Context previous = context.attach();
                    try {
                        // The part's call belongs to the context, so closing the stream cancels it.
                        responses = DataServiceGrpc.newBlockingStub(runtime.channel(address)).enumerate(
                                EnumerateRequest.newBuilder().setTableId(tableId()).setSnapshotId(id()).build());
                    } finally {
                        context.detach(previous);
                    }
                } else {
                    return false;
                }
            }
            return true;
        }

        @Override
        public ObjectValue next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            return toValue(batch.next());
        }
    }

    /**
     * Writes every object of the snapshot to a file ({@link SnapshotFile}'s format), to import
     * into another table or cluster with {@link FerriteClient#importTable}.
     *
     * @param file where to write (replaced when complete; written under a temporary name first)
     * @return what the file holds
     */
    public SnapshotFile.Summary exportTo(java.nio.file.Path file) {
        return SnapshotFile.export(this, file);
    }

    /**
     * Restores the snapshot into a new table: creates it and writes every object of the
     * snapshot into it (new versions; the snapshot and its table are untouched).
     *
     * @param client     the client (the new table is created through it)
     * @param newTable   the new table's name
     * @param serverSpan masters to spread it over
     * @return the objects written
     * @throws TableExistsException if {@code newTable} exists (nothing is written)
     */
    public long restoreInto(FerriteClient client, String newTable, int serverSpan) {
        client.createTable(newTable, serverSpan);
        try (Stream<ObjectValue> all = stream()) {
            return BulkLoad.writeAll(client.table(newTable), all.iterator());
        }
    }

    /**
     * Restores the snapshot over its own live table: writes every object of the snapshot, then
     * removes the keys the table holds that the snapshot does not. Not atomic: readers see the
     * table change key by key, and writes made meanwhile by others may survive or be undone.
     *
     * @param client the client
     * @return {objects written, keys removed}
     * @throws TableNotFoundException if the table no longer exists (restore into a new table then)
     */
    public long[] restoreInPlace(FerriteClient client) {
        Table table = client.table(tableName());
        if (table.id() != tableId()) {
            throw new TableNotFoundException("table " + tableName() + " is not the table this snapshot was taken of"
                    + " (id " + table.id() + ", not " + tableId() + "); restore into a new table");
        }
        long written;
        try (Stream<ObjectValue> all = stream()) {
            written = BulkLoad.writeAll(table, all.iterator());
        }
        long removed = 0;
        List<byte[]> batch = new ArrayList<>();
        try (Stream<ObjectValue> live = table.stream()) {
            for (Iterator<ObjectValue> it = live.iterator(); it.hasNext(); ) {
                batch.add(it.next().key());
                if (batch.size() == BulkLoad.BATCH || !it.hasNext()) {
                    removed += removeAbsent(table, batch);
                    batch.clear();
                }
            }
        }
        return new long[] {written, removed};
    }

    /** Removes the keys of {@code keys} this snapshot does not hold; returns how many went. */
    private long removeAbsent(Table table, List<byte[]> keys) {
        List<Optional<ObjectValue>> held = multiRead(keys);
        List<RemoveOp> removes = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            if (held.get(i).isEmpty()) {
                removes.add(RemoveOp.of(keys.get(i)));
            }
        }
        if (removes.isEmpty()) {
            return 0;
        }
        return table.multiRemove(removes).stream().filter(OpResult::isOk).count();
    }

    /** Drops this snapshot: the memory only it kept becomes free for the cleaners. */
    public void drop() {
        FerriteClient.dropSnapshot(runtime, tableId(), id());
    }

    private static ObjectValue toValue(EnumeratedObject object) {
        return new ObjectValue(object.getKey().toByteArray(), object.getValue().toByteArray(), object.getVersion(),
                object.getTimestampSeconds());
    }

    private Optional<ObjectValue> toValue(byte[] key, ReadResponse response) {
        return switch (response.getStatus()) {
            case OK -> Optional.of(new ObjectValue(key, response.getValue().toByteArray(), response.getVersion(),
                    response.getTimestampSeconds()));
            case OBJECT_DOESNT_EXIST -> Optional.empty();
            case SNAPSHOT_DOESNT_EXIST -> throw new SnapshotNotFoundException("snapshot " + id() + " of table "
                    + tableName() + ": " + response.getMessage());
            default -> throw Failures.toException(response.getStatus(), response.getVersion(), response.getMessage(),
                    "snapshot " + id() + " read");
        };
    }

    /** The address of the master holding the key's part. */
    private String holder(byte[] key) {
        long hash = KeyHash.hash(key);
        for (SnapshotTablet tablet : info.getTabletsList()) {
            if (Long.compareUnsigned(hash, tablet.getStartHash()) >= 0
                    && Long.compareUnsigned(hash, tablet.getEndHash()) <= 0) {
                return addressOf(tablet);
            }
        }
        throw new FerriteException("snapshot " + id() + " has no part covering this key (malformed snapshot map)");
    }

    private String addressOf(SnapshotTablet tablet) {
        if (tablet.getServerAddress().isEmpty()) {
            throw new SnapshotNotFoundException("snapshot " + id() + " of table " + tableName() + " is " + state()
                    + ": the master that held this part is gone");
        }
        return tablet.getServerAddress();
    }

    private DataServiceGrpc.DataServiceStub stub(String address) {
        return DataServiceGrpc.newStub(runtime.channel(address))
                .withDeadlineAfter(runtime.options().timeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    private static <T> io.grpc.stub.StreamObserver<T> observer(CompletableFuture<T> result) {
        return new io.grpc.stub.StreamObserver<>() {
            @Override
            public void onNext(T value) {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(new FerriteException("snapshot read failed: " + t.getMessage(), t));
            }

            @Override
            public void onCompleted() {
                result.completeExceptionally(new FerriteException("call ended without an answer"));
            }
        };
    }

    @Override
    public String toString() {
        return "snapshot " + id() + " of table " + tableName() + " (" + state() + ", " + createdAt() + ", "
                + objects() + " objects)";
    }

    /** Whether the coordinator listed it whole. */
    boolean complete() {
        return info.getState() == SnapshotState.COMPLETE;
    }
}
