package io.ferrite.client.fake;

import com.google.protobuf.ByteString;
import io.ferrite.proto.KeyHash;
import io.ferrite.proto.v1.DataRequest;
import io.ferrite.proto.v1.DataResponse;
import io.ferrite.proto.v1.DataServiceGrpc;
import io.ferrite.proto.v1.EnumerateRequest;
import io.ferrite.proto.v1.EnumerateResponse;
import io.ferrite.proto.v1.EnumeratedObject;
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
import io.ferrite.proto.v1.RejectRules;
import io.ferrite.proto.v1.RemoveRequest;
import io.ferrite.proto.v1.RemoveResponse;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.TabletState;
import io.ferrite.proto.v1.WriteRequest;
import io.ferrite.proto.v1.WriteResponse;
import io.grpc.stub.StreamObserver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A master backed by hash maps, implementing the data service's semantics (ownership, reject
 * rules, increments, enumerate with a "hash + key" cursor, the multiplexed stream), with
 * hooks to misbehave: answer RETRY, drop streams, break an enumeration, refuse streams.
 */
public final class FakeMaster extends DataServiceGrpc.DataServiceImplBase {
    private final FakeCluster cluster;
    private volatile String address;
    private final long serverId;
    private final Map<Long, Map<ByteString, Obj>> data = new HashMap<>();
    private long versionCounter;

    public final AtomicBoolean alwaysRetry = new AtomicBoolean();
    public final AtomicInteger dropStreamOnNextRequests = new AtomicInteger();
    public final AtomicInteger breakEnumerateAfterBatches = new AtomicInteger(-1);
    public volatile boolean streamUnimplemented;
    /** While set, stream requests wait for this latch before being handled. */
    public volatile java.util.concurrent.CountDownLatch streamGate;
    public final AtomicInteger streamOpens = new AtomicInteger();
    public final AtomicInteger streamRequests = new AtomicInteger();
    public final AtomicInteger unaryRequests = new AtomicInteger();
    public final AtomicInteger enumerateCalls = new AtomicInteger();
    public final AtomicInteger multiRequests = new AtomicInteger();

    private record Obj(ByteString key, ByteString value, long version, long hash) {
    }

    FakeMaster(FakeCluster cluster, String address, long serverId) {
        this.cluster = cluster;
        this.address = address;
        this.serverId = serverId;
    }

    public String address() {
        return address;
    }

    void setAddress(String address) {
        this.address = address;
    }

    public long serverId() {
        return serverId;
    }

    /** Objects this master holds for a table. */
    public int objectCount(long tableId) {
        synchronized (cluster) {
            Map<ByteString, Obj> t = data.get(tableId);
            return t == null ? 0 : t.size();
        }
    }

    void dropTableData(long tableId) {
        data.remove(tableId);
    }

    void moveObjects(long tableId, long start, long end, FakeMaster to) {
        Map<ByteString, Obj> from = data.getOrDefault(tableId, Map.of());
        Map<ByteString, Obj> target = to.data.computeIfAbsent(tableId, id -> new HashMap<>());
        for (Iterator<Obj> it = from.values().iterator(); it.hasNext(); ) {
            Obj o = it.next();
            if (Long.compareUnsigned(start, o.hash) <= 0 && Long.compareUnsigned(o.hash, end) <= 0) {
                target.put(o.key, o);
                it.remove();
            }
        }
        to.versionCounter = Math.max(to.versionCounter, versionCounter);
    }

    // ---------------------------------------------------------------- operations

    /** Null if this master serves the key, else the status to answer. */
    private Status check(long tableId, ByteString key) {
        if (alwaysRetry.get()) {
            return Status.RETRY;
        }
        if (key.isEmpty() || key.size() > 65_535) {
            return Status.INVALID_ARGUMENT;
        }
        if (cluster.table(tableId) == null) {
            return Status.TABLE_DOESNT_EXIST;
        }
        FakeCluster.FakeTablet tablet = cluster.tabletFor(tableId, KeyHash.hash(key.toByteArray()));
        if (tablet == null || tablet.owner != this || tablet.state != TabletState.NORMAL) {
            return Status.UNKNOWN_TABLET;
        }
        return null;
    }

    private static Status reject(RejectRules rules, Obj existing) {
        if (existing == null) {
            return rules.getDoesntExist() ? Status.OBJECT_DOESNT_EXIST : null;
        }
        if (rules.getExists()) {
            return Status.OBJECT_EXISTS;
        }
        if (rules.getVersionLeGiven() && existing.version <= rules.getGivenVersion()) {
            return Status.WRONG_VERSION;
        }
        if (rules.getVersionNeGiven() && existing.version != rules.getGivenVersion()) {
            return Status.WRONG_VERSION;
        }
        return null;
    }

    private Map<ByteString, Obj> table(long id) {
        return data.computeIfAbsent(id, k -> new HashMap<>());
    }

    ReadResponse read(ReadRequest q) {
        synchronized (cluster) {
            Status bad = check(q.getTableId(), q.getKey());
            if (bad != null) {
                return ReadResponse.newBuilder().setStatus(bad).build();
            }
            Obj o = table(q.getTableId()).get(q.getKey());
            if (o == null) {
                return ReadResponse.newBuilder().setStatus(Status.OBJECT_DOESNT_EXIST).build();
            }
            return ReadResponse.newBuilder().setStatus(Status.OK).setValue(o.value).setVersion(o.version)
                    .setTimestampSeconds(1_700_000_000L).build();
        }
    }

    WriteResponse write(WriteRequest q) {
        synchronized (cluster) {
            Status bad = check(q.getTableId(), q.getKey());
            if (bad != null) {
                return WriteResponse.newBuilder().setStatus(bad).build();
            }
            Map<ByteString, Obj> t = table(q.getTableId());
            Obj existing = t.get(q.getKey());
            Status refused = reject(q.getRejectRules(), existing);
            if (refused != null) {
                return WriteResponse.newBuilder().setStatus(refused).setVersion(existing == null ? 0 : existing.version)
                        .build();
            }
            long version = ++versionCounter;
            t.put(q.getKey(), new Obj(q.getKey(), q.getValue(), version, KeyHash.hash(q.getKey().toByteArray())));
            return WriteResponse.newBuilder().setStatus(Status.OK).setVersion(version).build();
        }
    }

    RemoveResponse remove(RemoveRequest q) {
        synchronized (cluster) {
            Status bad = check(q.getTableId(), q.getKey());
            if (bad != null) {
                return RemoveResponse.newBuilder().setStatus(bad).build();
            }
            Map<ByteString, Obj> t = table(q.getTableId());
            Obj existing = t.get(q.getKey());
            Status refused = reject(q.getRejectRules(), existing);
            if (refused != null) {
                return RemoveResponse.newBuilder().setStatus(refused).setVersion(existing == null ? 0 : existing.version)
                        .build();
            }
            if (existing == null) {
                return RemoveResponse.newBuilder().setStatus(Status.OBJECT_DOESNT_EXIST).build();
            }
            t.remove(q.getKey());
            ++versionCounter;
            return RemoveResponse.newBuilder().setStatus(Status.OK).setVersion(existing.version).build();
        }
    }

    IncrementResponse increment(IncrementRequest q) {
        synchronized (cluster) {
            Status bad = check(q.getTableId(), q.getKey());
            if (bad != null) {
                return IncrementResponse.newBuilder().setStatus(bad).build();
            }
            Map<ByteString, Obj> t = table(q.getTableId());
            Obj existing = t.get(q.getKey());
            Status refused = reject(q.getRejectRules(), existing);
            if (refused != null) {
                return IncrementResponse.newBuilder().setStatus(refused).build();
            }
            if (existing != null && existing.value.size() != 8) {
                return IncrementResponse.newBuilder().setStatus(Status.NOT_A_NUMBER).build();
            }
            long bits = existing == null ? 0
                    : existing.value.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getLong();
            IncrementResponse.Builder r = IncrementResponse.newBuilder().setStatus(Status.OK);
            if (q.hasDoubleDelta()) {
                double v = (existing == null ? 0.0 : Double.longBitsToDouble(bits)) + q.getDoubleDelta();
                bits = Double.doubleToRawLongBits(v);
                r.setDoubleValue(v);
            } else {
                bits += q.getInt64Delta();
                r.setInt64Value(bits);
            }
            ByteString value = ByteString.copyFrom(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, bits));
            long version = ++versionCounter;
            t.put(q.getKey(), new Obj(q.getKey(), value, version, KeyHash.hash(q.getKey().toByteArray())));
            return r.setVersion(version).build();
        }
    }

    MultiReadResponse multiRead(MultiReadRequest q) {
        multiRequests.incrementAndGet();
        MultiReadResponse.Builder r = MultiReadResponse.newBuilder();
        for (ReadRequest item : q.getItemsList()) {
            r.addItems(read(item));
        }
        return r.build();
    }

    MultiWriteResponse multiWrite(MultiWriteRequest q) {
        multiRequests.incrementAndGet();
        MultiWriteResponse.Builder r = MultiWriteResponse.newBuilder();
        for (WriteRequest item : q.getItemsList()) {
            r.addItems(write(item));
        }
        return r.build();
    }

    MultiRemoveResponse multiRemove(MultiRemoveRequest q) {
        multiRequests.incrementAndGet();
        MultiRemoveResponse.Builder r = MultiRemoveResponse.newBuilder();
        for (RemoveRequest item : q.getItemsList()) {
            r.addItems(remove(item));
        }
        return r.build();
    }

    DataResponse handle(DataRequest q) {
        DataResponse.Builder r = DataResponse.newBuilder().setRequestId(q.getRequestId());
        switch (q.getOpCase()) {
            case READ -> r.setRead(read(q.getRead()));
            case WRITE -> r.setWrite(write(q.getWrite()));
            case REMOVE -> r.setRemove(remove(q.getRemove()));
            case INCREMENT -> r.setIncrement(increment(q.getIncrement()));
            case MULTI_READ -> r.setMultiRead(multiRead(q.getMultiRead()));
            case MULTI_WRITE -> r.setMultiWrite(multiWrite(q.getMultiWrite()));
            case MULTI_REMOVE -> r.setMultiRemove(multiRemove(q.getMultiRemove()));
            case OP_NOT_SET -> {
            }
        }
        return r.build();
    }

    // ---------------------------------------------------------------- gRPC

    private <T> void unary(T answer, StreamObserver<T> out) {
        unaryRequests.incrementAndGet();
        out.onNext(answer);
        out.onCompleted();
    }

    @Override
    public void read(ReadRequest q, StreamObserver<ReadResponse> out) {
        unary(read(q), out);
    }

    @Override
    public void write(WriteRequest q, StreamObserver<WriteResponse> out) {
        unary(write(q), out);
    }

    @Override
    public void remove(RemoveRequest q, StreamObserver<RemoveResponse> out) {
        unary(remove(q), out);
    }

    @Override
    public void increment(IncrementRequest q, StreamObserver<IncrementResponse> out) {
        unary(increment(q), out);
    }

    @Override
    public void multiRead(MultiReadRequest q, StreamObserver<MultiReadResponse> out) {
        unary(multiRead(q), out);
    }

    @Override
    public void multiWrite(MultiWriteRequest q, StreamObserver<MultiWriteResponse> out) {
        unary(multiWrite(q), out);
    }

    @Override
    public void multiRemove(MultiRemoveRequest q, StreamObserver<MultiRemoveResponse> out) {
        unary(multiRemove(q), out);
    }

    @Override
    public StreamObserver<DataRequest> stream(StreamObserver<DataResponse> out) {
        if (streamUnimplemented) {
            return super.stream(out);
        }
        streamOpens.incrementAndGet();
        return new StreamObserver<>() {
            private boolean dead;

            @Override
            public void onNext(DataRequest q) {
                if (dead) {
                    return;
                }
                streamRequests.incrementAndGet();
                java.util.concurrent.CountDownLatch gate = streamGate;
                if (gate != null) {
                    try {
                        gate.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                if (dropStreamOnNextRequests.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    dead = true;
                    out.onError(io.grpc.Status.UNAVAILABLE.withDescription("fake master drops the stream")
                            .asRuntimeException());
                    return;
                }
                out.onNext(handle(q));
            }

            @Override
            public void onError(Throwable t) {
                dead = true;
            }

            @Override
            public void onCompleted() {
                if (!dead) {
                    out.onCompleted();
                }
            }
        };
    }

    @Override
    public void enumerate(EnumerateRequest q, StreamObserver<EnumerateResponse> out) {
        enumerateCalls.incrementAndGet();
        List<Obj> objects = new ArrayList<>();
        synchronized (cluster) {
            if (alwaysRetry.get()) {
                out.onNext(EnumerateResponse.newBuilder().setStatus(Status.RETRY).build());
                out.onCompleted();
                return;
            }
            FakeCluster.FakeTable t = cluster.table(q.getTableId());
            if (t == null) {
                out.onNext(EnumerateResponse.newBuilder().setStatus(Status.TABLE_DOESNT_EXIST).build());
                out.onCompleted();
                return;
            }
            if (t.tablets.stream().noneMatch(tablet -> tablet.owner == this)) {
                out.onNext(EnumerateResponse.newBuilder().setStatus(Status.UNKNOWN_TABLET).build());
                out.onCompleted();
                return;
            }
            for (Obj o : table(q.getTableId()).values()) {
                FakeCluster.FakeTablet tablet = cluster.tabletFor(q.getTableId(), o.hash);
                if (tablet != null && tablet.owner == this) {
                    objects.add(o);
                }
            }
        }
        objects.sort(FakeMaster::compare);
        long afterHash = 0;
        byte[] afterKey = null;
        if (!q.getCursor().isEmpty()) {
            ByteBuffer c = q.getCursor().asReadOnlyByteBuffer();
            afterHash = c.getLong();
            afterKey = new byte[c.remaining()];
            c.get(afterKey);
        }
        int start = 0;
        if (afterKey != null) {
            while (start < objects.size() && compare(objects.get(start), afterHash, afterKey) <= 0) {
                start++;
            }
        }
        int batch = q.getBatchObjects() == 0 ? 1000 : q.getBatchObjects();
        int breakAfter = breakEnumerateAfterBatches.getAndSet(-1);
        int sent = 0;
        int i = start;
        do {
            if (sent == breakAfter) {
                out.onError(io.grpc.Status.UNAVAILABLE.withDescription("fake master breaks the enumeration")
                        .asRuntimeException());
                return;
            }
            int end = Math.min(objects.size(), i + batch);
            EnumerateResponse.Builder r = EnumerateResponse.newBuilder().setStatus(Status.OK);
            for (int j = i; j < end; j++) {
                Obj o = objects.get(j);
                r.addObjects(EnumeratedObject.newBuilder().setKey(o.key).setValue(o.value).setVersion(o.version)
                        .setTimestampSeconds(1_700_000_000L));
            }
            if (end > i) {
                Obj last = objects.get(end - 1);
                byte[] key = last.key.toByteArray();
                r.setCursor(ByteString.copyFrom(ByteBuffer.allocate(8 + key.length).putLong(last.hash).put(key).flip()));
            } else {
                r.setCursor(q.getCursor());
            }
            r.setDone(end == objects.size());
            out.onNext(r.build());
            sent++;
            i = end;
        } while (i < objects.size());
        out.onCompleted();
    }

    private static int compare(Obj a, Obj b) {
        return compare(a, b.hash, b.key.toByteArray());
    }

    private static int compare(Obj a, long hash, byte[] key) {
        int c = Long.compareUnsigned(a.hash, hash);
        return c != 0 ? c : Arrays.compareUnsigned(a.key.toByteArray(), key);
    }
}
