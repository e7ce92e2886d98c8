package io.ferrite.client;

import io.ferrite.client.ops.ClientRuntime;
import io.ferrite.client.ops.Decoder;
import io.ferrite.client.ops.Enumerator;
import io.ferrite.client.ops.Failures;
import io.ferrite.client.ops.MultiCall;
import io.ferrite.client.ops.MultiKind;
import io.ferrite.client.ops.SingleKeyCall;
import io.ferrite.client.routing.TabletMapCache;
import io.ferrite.proto.v1.DataRequest;
import io.ferrite.proto.v1.IncrementRequest;
import io.ferrite.proto.v1.ReadRequest;
import io.ferrite.proto.v1.RemoveRequest;
import io.ferrite.proto.v1.WriteRequest;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A handle on one table, from {@link FerriteClient#table(String)}; thread-safe, cheap to
 * share. Bound to the table's id: if the table is dropped, operations fail with
 * {@link TableNotFoundException} even if a table of the same name is created again.
 *
 * <h2>Results and errors</h2>
 * <ul>
 *   <li>Outcomes you ask about are values: {@link #read(byte[])} gives
 *       {@link Optional#empty()} for an absent object, {@link #remove(byte[])} gives
 *       {@link OptionalLong#empty()} when there was nothing to remove, and multi-writes and
 *       multi-removes report each item's {@link Outcome}.</li>
 *   <li>Refused conditions are exceptions on single-key calls:
 *       {@link ObjectExistsException}, {@link ObjectNotFoundException},
 *       {@link WrongVersionException} (both carry the current version).</li>
 *   <li>Failures: {@link InvalidArgumentException} (checked before sending: keys
 *       1..65,535 bytes, values at most 1 MiB), {@link TableNotFoundException},
 *       {@link NotANumberException}, {@link FerriteTimeoutException}.</li>
 * </ul>
 * Asynchronous variants return a {@link CompletableFuture} that completes exceptionally with
 * the same exceptions; they complete on a network thread, so do not block in dependent
 * stages (use the {@code ...Async} stage methods to move work elsewhere).
 *
 * <h2>Retries</h2>
 * A call routes its key by the cached tablet map. When the tablet moved, is recovering, the
 * master says retry, or the connection fails, the client refreshes the map and retries with
 * exponential backoff until {@link ClientOptions#timeout()}. A mutation retried after a
 * broken connection may have been applied by the first attempt (the wire has no exactly-once
 * token yet), which matters for increments and conditional operations.
 */
public final class Table {
    /** Largest key, in bytes. */
    public static final int MAX_KEY_BYTES = 65_535;
    /** Largest value, in bytes (1 MiB). */
    public static final int MAX_VALUE_BYTES = 1 << 20;

    private final ClientRuntime runtime;
    private final TabletMapCache tablets;
    private final long syncSpinNs;
    private final RecentLatency reads = new RecentLatency();
    private final RecentLatency writes = new RecentLatency();

    Table(ClientRuntime runtime, TabletMapCache tablets) {
        this.syncSpinNs = runtime.options().syncSpin().toNanos();
        this.runtime = runtime;
        this.tablets = tablets;
    }

    /**
     * The table's name.
     *
     * @return the name
     */
    public String name() {
        return tablets.name();
    }

    /**
     * The table's id.
     *
     * @return the id
     */
    public long id() {
        return tablets.tableId();
    }

    boolean isGone() {
        return tablets.isGone();
    }

    // ---------------------------------------------------------------- read

    /**
     * Reads an object.
     *
     * @param key the key
     * @return the object, or empty if it does not exist
     */
    public Optional<ObjectValue> read(byte[] key) {
        return await(readAsync(key), reads);
    }

    /**
     * Reads an object by a UTF-8 key.
     *
     * @param key the key
     * @return the object, or empty if it does not exist
     */
    public Optional<ObjectValue> read(String key) {
        return read(utf8(key));
    }

    /**
     * Reads an object asynchronously.
     *
     * @param key the key
     * @return the object, or empty if it does not exist
     */
    public CompletableFuture<Optional<ObjectValue>> readAsync(byte[] key) {
        FerriteException bad = checkKey(key);
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        DataRequest.Builder op = DataRequest.newBuilder()
                .setRead(ReadRequest.newBuilder().setTableId(id()).setKey(MultiKind.bytes(key)));
        return new SingleKeyCall<>(runtime, tablets, key, op, Decoder.READ, "read").start();
    }

    /**
     * Reads an object by a UTF-8 key asynchronously.
     *
     * @param key the key
     * @return the object, or empty if it does not exist
     */
    public CompletableFuture<Optional<ObjectValue>> readAsync(String key) {
        return readAsync(utf8(key));
    }

    // ---------------------------------------------------------------- write

    /**
     * Creates or overwrites an object.
     *
     * @param key   the key
     * @param value the value
     * @return the new version
     */
    public long write(byte[] key, byte[] value) {
        return await(writeAsync(key, value, Condition.none()), writes);
    }

    /**
     * Creates or overwrites an object with UTF-8 key and value.
     *
     * @param key   the key
     * @param value the value
     * @return the new version
     */
    public long write(String key, String value) {
        return write(utf8(key), utf8(value));
    }

    /**
     * Writes an object if a condition holds.
     *
     * @param key       the key
     * @param value     the value
     * @param condition when to proceed
     * @return the new version
     * @throws ObjectExistsException   refused by {@link Condition#ifAbsent()}
     * @throws ObjectNotFoundException refused because the object does not exist
     * @throws WrongVersionException   refused by a version condition
     */
    public long write(byte[] key, byte[] value, Condition condition) {
        return await(writeAsync(key, value, condition), writes);
    }

    /**
     * Writes an object with UTF-8 key and value if a condition holds.
     *
     * @param key       the key
     * @param value     the value
     * @param condition when to proceed
     * @return the new version
     * @throws ObjectExistsException   refused by {@link Condition#ifAbsent()}
     * @throws ObjectNotFoundException refused because the object does not exist
     * @throws WrongVersionException   refused by a version condition
     */
    public long write(String key, String value, Condition condition) {
        return write(utf8(key), utf8(value), condition);
    }

    /**
     * Creates or overwrites an object asynchronously.
     *
     * @param key   the key
     * @param value the value
     * @return the new version
     */
    public CompletableFuture<Long> writeAsync(byte[] key, byte[] value) {
        return writeAsync(key, value, Condition.none());
    }

    /**
     * Creates or overwrites an object with UTF-8 key and value asynchronously.
     *
     * @param key   the key
     * @param value the value
     * @return the new version
     */
    public CompletableFuture<Long> writeAsync(String key, String value) {
        return writeAsync(utf8(key), utf8(value), Condition.none());
    }

    /**
     * Writes an object with UTF-8 key and value if a condition holds, asynchronously.
     *
     * @param key       the key
     * @param value     the value
     * @param condition when to proceed
     * @return the new version, or the refusal's exception
     */
    public CompletableFuture<Long> writeAsync(String key, String value, Condition condition) {
        return writeAsync(utf8(key), utf8(value), condition);
    }

    /**
     * Writes an object if a condition holds, asynchronously.
     *
     * @param key       the key
     * @param value     the value
     * @param condition when to proceed
     * @return the new version, or the refusal's exception
     */
    public CompletableFuture<Long> writeAsync(byte[] key, byte[] value, Condition condition) {
        FerriteException bad = checkKey(key);
        if (bad == null) {
            bad = checkValue(value);
        }
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        WriteRequest.Builder w = WriteRequest.newBuilder().setTableId(id()).setKey(MultiKind.bytes(key))
                .setValue(MultiKind.bytes(value));
        if (!condition.isNone()) {
            w.setRejectRules(MultiKind.rules(condition));
        }
        return new SingleKeyCall<>(runtime, tablets, key, DataRequest.newBuilder().setWrite(w), Decoder.WRITE,
                "write").start();
    }

    // ---------------------------------------------------------------- remove

    /**
     * Removes an object.
     *
     * @param key the key
     * @return the removed object's version, or empty if there was none
     */
    public OptionalLong remove(byte[] key) {
        return await(removeAsync(key, Condition.none()), writes);
    }

    /**
     * Removes an object by a UTF-8 key.
     *
     * @param key the key
     * @return the removed object's version, or empty if there was none
     */
    public OptionalLong remove(String key) {
        return remove(utf8(key));
    }

    /**
     * Removes an object if a condition holds. With a condition that requires the object to
     * exist ({@link Condition#ifExists()}, {@link Condition#ifVersion(long)}), an absent object
     * throws {@link ObjectNotFoundException} instead of giving empty.
     *
     * @param key       the key
     * @param condition when to proceed
     * @return the removed object's version, or empty if there was none
     * @throws ObjectNotFoundException refused because the object does not exist
     * @throws WrongVersionException   refused by a version condition
     * @throws ObjectExistsException   refused by {@link Condition#ifAbsent()}
     */
    public OptionalLong remove(byte[] key, Condition condition) {
        return await(removeAsync(key, condition), writes);
    }

    /**
     * Removes an object by a UTF-8 key if a condition holds.
     *
     * @param key       the key
     * @param condition when to proceed
     * @return the removed object's version, or empty if there was none
     */
    public OptionalLong remove(String key, Condition condition) {
        return remove(utf8(key), condition);
    }

    /**
     * Removes an object asynchronously.
     *
     * @param key the key
     * @return the removed object's version, or empty if there was none
     */
    public CompletableFuture<OptionalLong> removeAsync(byte[] key) {
        return removeAsync(key, Condition.none());
    }

    /**
     * Removes an object by a UTF-8 key asynchronously.
     *
     * @param key the key
     * @return the removed object's version, or empty if there was none
     */
    public CompletableFuture<OptionalLong> removeAsync(String key) {
        return removeAsync(utf8(key), Condition.none());
    }

    /**
     * Removes an object by a UTF-8 key if a condition holds, asynchronously.
     *
     * @param key       the key
     * @param condition when to proceed
     * @return the removed object's version, or empty if there was none
     */
    public CompletableFuture<OptionalLong> removeAsync(String key, Condition condition) {
        return removeAsync(utf8(key), condition);
    }

    /**
     * Removes an object if a condition holds, asynchronously.
     *
     * @param key       the key
     * @param condition when to proceed
     * @return the removed object's version, or empty if there was none
     */
    public CompletableFuture<OptionalLong> removeAsync(byte[] key, Condition condition) {
        FerriteException bad = checkKey(key);
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        RemoveRequest.Builder r = RemoveRequest.newBuilder().setTableId(id()).setKey(MultiKind.bytes(key));
        if (!condition.isNone()) {
            r.setRejectRules(MultiKind.rules(condition));
        }
        Decoder<OptionalLong> decoder = condition.rejectIfAbsent() ? Decoder.REMOVE_EXISTING : Decoder.REMOVE;
        return new SingleKeyCall<>(runtime, tablets, key, DataRequest.newBuilder().setRemove(r), decoder, "remove")
                .start();
    }

    // ---------------------------------------------------------------- increment

    /**
     * Atomically adds to a signed 64-bit integer stored as 8 bytes little-endian (an absent
     * object counts as 0 and is created).
     *
     * @param key   the key
     * @param delta what to add (wraps on overflow)
     * @return the new value
     * @throws NotANumberException if the value is not 8 bytes
     */
    public long incrementLong(byte[] key, long delta) {
        return await(incrementLongAsync(key, delta), writes);
    }

    /**
     * Atomically adds to a 64-bit integer under a UTF-8 key.
     *
     * @param key   the key
     * @param delta what to add
     * @return the new value
     */
    public long incrementLong(String key, long delta) {
        return incrementLong(utf8(key), delta);
    }

    /**
     * Atomically adds to a 64-bit integer, asynchronously.
     *
     * @param key   the key
     * @param delta what to add
     * @return the new value
     */
    public CompletableFuture<Long> incrementLongAsync(byte[] key, long delta) {
        FerriteException bad = checkKey(key);
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        IncrementRequest.Builder inc = IncrementRequest.newBuilder().setTableId(id()).setKey(MultiKind.bytes(key))
                .setInt64Delta(delta);
        return new SingleKeyCall<>(runtime, tablets, key, DataRequest.newBuilder().setIncrement(inc),
                Decoder.INCREMENT_LONG, "incrementLong").start();
    }

    /**
     * Atomically adds to a 64-bit integer under a UTF-8 key, asynchronously.
     *
     * @param key   the key
     * @param delta what to add
     * @return the new value
     */
    public CompletableFuture<Long> incrementLongAsync(String key, long delta) {
        return incrementLongAsync(utf8(key), delta);
    }

    /**
     * Atomically adds to an IEEE 754 double stored as 8 bytes little-endian (an absent object
     * counts as 0 and is created).
     *
     * @param key   the key
     * @param delta what to add
     * @return the new value
     * @throws NotANumberException if the value is not 8 bytes
     */
    public double incrementDouble(byte[] key, double delta) {
        return await(incrementDoubleAsync(key, delta), writes);
    }

    /**
     * Atomically adds to a double under a UTF-8 key.
     *
     * @param key   the key
     * @param delta what to add
     * @return the new value
     */
    public double incrementDouble(String key, double delta) {
        return incrementDouble(utf8(key), delta);
    }

    /**
     * Atomically adds to a double, asynchronously.
     *
     * @param key   the key
     * @param delta what to add
     * @return the new value
     */
    public CompletableFuture<Double> incrementDoubleAsync(byte[] key, double delta) {
        FerriteException bad = checkKey(key);
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        IncrementRequest.Builder inc = IncrementRequest.newBuilder().setTableId(id()).setKey(MultiKind.bytes(key))
                .setDoubleDelta(delta);
        return new SingleKeyCall<>(runtime, tablets, key, DataRequest.newBuilder().setIncrement(inc),
                Decoder.INCREMENT_DOUBLE, "incrementDouble").start();
    }

    /**
     * Atomically adds to a double under a UTF-8 key, asynchronously.
     *
     * @param key   the key
     * @param delta what to add
     * @return the new value
     */
    public CompletableFuture<Double> incrementDoubleAsync(String key, double delta) {
        return incrementDoubleAsync(utf8(key), delta);
    }

    // ---------------------------------------------------------------- multi-operations

    /**
     * Reads several objects, in parallel across their masters.
     *
     * @param keys the keys
     * @return one result per key, in the same order (empty where absent)
     */
    public List<Optional<ObjectValue>> multiRead(List<byte[]> keys) {
        return await(multiReadAsync(keys), reads);
    }

    /**
     * Reads several objects by UTF-8 keys.
     *
     * @param keys the keys
     * @return one result per key, in the same order
     */
    public List<Optional<ObjectValue>> multiRead(String... keys) {
        return await(multiReadAsync(keys), reads);
    }

    /**
     * Reads several objects asynchronously.
     *
     * @param keys the keys
     * @return one result per key, in the same order
     */
    public CompletableFuture<List<Optional<ObjectValue>>> multiReadAsync(List<byte[]> keys) {
        List<byte[]> items = List.copyOf(keys);
        for (byte[] key : items) {
            FerriteException bad = checkKey(key);
            if (bad != null) {
                return CompletableFuture.failedFuture(bad);
            }
        }
        return new MultiCall<>(runtime, tablets, items, MultiKind.READ, "multiRead").start();
    }

    /**
     * Reads several objects by UTF-8 keys asynchronously.
     *
     * @param keys the keys
     * @return one result per key, in the same order
     */
    public CompletableFuture<List<Optional<ObjectValue>>> multiReadAsync(String... keys) {
        List<byte[]> items = new ArrayList<>(keys.length);
        for (String key : keys) {
            items.add(utf8(key));
        }
        return multiReadAsync(items);
    }

    /**
     * Writes several objects, in parallel across their masters. Not atomic as a whole; each
     * item succeeds or is refused on its own.
     *
     * @param ops the writes
     * @return one result per write, in the same order
     */
    public List<OpResult> multiWrite(List<WriteOp> ops) {
        return await(multiWriteAsync(ops), writes);
    }

    /**
     * Writes several objects asynchronously.
     *
     * @param ops the writes
     * @return one result per write, in the same order
     */
    public CompletableFuture<List<OpResult>> multiWriteAsync(List<WriteOp> ops) {
        List<WriteOp> items = List.copyOf(ops);
        for (WriteOp op : items) {
            FerriteException bad = checkKey(op.key());
            if (bad == null) {
                bad = checkValue(op.value());
            }
            if (bad != null) {
                return CompletableFuture.failedFuture(bad);
            }
        }
        return new MultiCall<>(runtime, tablets, items, MultiKind.WRITE, "multiWrite").start();
    }

    /**
     * Removes several objects, in parallel across their masters.
     *
     * @param ops the removes
     * @return one result per remove, in the same order ({@link Outcome#OBJECT_NOT_FOUND} where
     *         there was nothing to remove)
     */
    public List<OpResult> multiRemove(List<RemoveOp> ops) {
        return await(multiRemoveAsync(ops), writes);
    }

    /**
     * Removes several objects by UTF-8 keys, unconditionally.
     *
     * @param keys the keys
     * @return one result per key, in the same order
     */
    public List<OpResult> multiRemove(String... keys) {
        return await(multiRemoveAsync(keys), writes);
    }

    /**
     * Removes several objects asynchronously.
     *
     * @param ops the removes
     * @return one result per remove, in the same order
     */
    public CompletableFuture<List<OpResult>> multiRemoveAsync(List<RemoveOp> ops) {
        List<RemoveOp> items = List.copyOf(ops);
        for (RemoveOp op : items) {
            FerriteException bad = checkKey(op.key());
            if (bad != null) {
                return CompletableFuture.failedFuture(bad);
            }
        }
        return new MultiCall<>(runtime, tablets, items, MultiKind.REMOVE, "multiRemove").start();
    }

    /**
     * Removes several objects by UTF-8 keys asynchronously.
     *
     * @param keys the keys
     * @return one result per key, in the same order
     */
    public CompletableFuture<List<OpResult>> multiRemoveAsync(String... keys) {
        List<RemoveOp> items = new ArrayList<>(keys.length);
        for (String key : keys) {
            items.add(RemoveOp.of(key));
        }
        return multiRemoveAsync(items);
    }

    // ---------------------------------------------------------------- snapshots

    /**
     * Takes a point-in-time snapshot of the table without copying its data (see
     * {@link TableSnapshot}). Every write acknowledged before this call is in it; none made
     * after it returns is.
     *
     * @return the snapshot
     * @throws FerriteException if it could not be taken (a tablet being recovered, a master
     *                          unreachable) before the client's timeout
     */
    public TableSnapshot snapshot() {
        return Failures.await(snapshotAsync());
    }

    /**
     * Takes a snapshot asynchronously.
     *
     * @return the snapshot
     */
    public CompletableFuture<TableSnapshot> snapshotAsync() {
        String name = name();
        return runtime.coordinator().createSnapshot(name).thenApply(r -> switch (r.getStatus()) {
            case OK -> new TableSnapshot(runtime, r.getSnapshot());
            case TABLE_DOESNT_EXIST -> throw new TableNotFoundException("snapshot of " + name + ": " + r.getMessage());
            default -> throw new FerriteException("snapshot of " + name + ": " + r.getStatus() + " " + r.getMessage());
        });
    }

    // ---------------------------------------------------------------- enumeration

    /**
     * Iterates over every object of the table (see {@link TableScanner}). Close it when
     * stopping early.
     *
     * @return the iterator
     */
    public TableScanner enumerate() {
        TableScanner scanner = new TableScanner(runtime.options().timeout().toNanos());
        scanner.start(new Enumerator(runtime, tablets, scanner.sink()));
        return scanner;
    }

    /**
     * Every object of the table as a sequential stream; close the stream (try-with-resources)
     * when stopping early.
     *
     * @return the stream
     */
    public Stream<ObjectValue> stream() {
        TableScanner scanner = enumerate();
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(scanner,
                Spliterator.ORDERED | Spliterator.NONNULL), false).onClose(scanner::close);
    }

    /**
     * Enumerates the table asynchronously, giving each object to {@code consumer} on a network
     * thread, one batch at a time (the next batch is fetched after the consumer returns). If the
     * consumer throws, the enumeration stops and the future fails with that exception.
     *
     * @param consumer receives every object; must not block for long
     * @return the number of objects enumerated
     */
    public CompletableFuture<Long> enumerateAsync(Consumer<? super ObjectValue> consumer) {
        CompletableFuture<Long> result = new CompletableFuture<>();
        AtomicLong count = new AtomicLong();
        Enumerator[] self = new Enumerator[1];
        Enumerator e = new Enumerator(runtime, tablets, new Enumerator.Sink() {
            @Override
            public void onBatch(List<ObjectValue> objects) {
                try {
                    for (ObjectValue o : objects) {
                        consumer.accept(o);
                    }
                } catch (RuntimeException ex) {
                    self[0].cancel();
                    result.completeExceptionally(ex);
                    return;
                }
                count.addAndGet(objects.size());
                self[0].requestNext();
            }

            @Override
            public void onEnd(Throwable failure) {
                if (failure == null) {
                    result.complete(count.get());
                } else {
                    result.completeExceptionally(failure);
                }
            }
        });
        self[0] = e;
        result.whenComplete((n, err) -> e.cancel());
        e.start();
        return result;
    }

    // ---------------------------------------------------------------- checks

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static FerriteException checkKey(byte[] key) {
        if (key == null) {
            return new InvalidArgumentException("key is null");
        }
        if (key.length == 0) {
            return new InvalidArgumentException("key is empty (keys are 1.." + MAX_KEY_BYTES + " bytes)");
        }
        if (key.length > MAX_KEY_BYTES) {
            return new InvalidArgumentException("key is " + key.length + " bytes (at most " + MAX_KEY_BYTES + ")");
        }
        return null;
    }

    private static FerriteException checkValue(byte[] value) {
        if (value == null) {
            return new InvalidArgumentException("value is null");
        }
        if (value.length > MAX_VALUE_BYTES) {
            return new InvalidArgumentException("value is " + value.length + " bytes (at most " + MAX_VALUE_BYTES
                    + ")");
        }
        return null;
    }

    @Override
    public String toString() {
        return "Table[" + name() + "#" + id() + "]";
    }

    /**
     * Waits for a data call on behalf of a synchronous method. It spins first (up to the
     * options' {@code syncSpin}) only while calls of this kind have recently answered within
     * that time: spinning saves a wake-up on a fast answer, but on a slow one (a replicated
     * write) it only takes a core from the threads that produce the answer (measured on two
     * cores: replicated write p50 714 µs spinning 200 µs, 420 µs not spinning).
     */
    private <T> T await(CompletableFuture<T> future, RecentLatency kind) {
        long spin = kind.averageNs() <= syncSpinNs ? syncSpinNs : 0;
        long start = System.nanoTime();
        try {
            return Failures.await(future, spin);
        } finally {
            kind.record(System.nanoTime() - start);
        }
    }

    /** A moving average of how long synchronous calls of one kind took (racy updates are harmless). */
    private static final class RecentLatency {
        private volatile long averageNs;

        long averageNs() {
            return averageNs;
        }

        void record(long ns) {
            long previous = averageNs;
            averageNs = previous == 0 ? ns : previous + (ns - previous) / 8;
        }
    }
}
