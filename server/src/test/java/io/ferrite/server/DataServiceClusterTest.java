package io.ferrite.server;

import io.ferrite.proto.v1.OwnedTablet;
import io.ferrite.proto.v1.TakeTabletsResponse;
import io.ferrite.proto.v1.TakeTabletsRequest;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.DataRequest;
import io.ferrite.proto.v1.DataResponse;
import io.ferrite.proto.v1.DataServiceGrpc;
import io.ferrite.proto.v1.DropTableRequest;
import io.ferrite.proto.v1.EnumerateRequest;
import io.ferrite.proto.v1.EnumerateResponse;
import io.ferrite.proto.v1.EnumeratedObject;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.IncrementRequest;
import io.ferrite.proto.v1.IncrementResponse;
import io.ferrite.proto.v1.MultiReadRequest;
import io.ferrite.proto.v1.MultiReadResponse;
import io.ferrite.proto.v1.MultiRemoveRequest;
import io.ferrite.proto.v1.MultiRemoveResponse;
import io.ferrite.proto.v1.MultiWriteRequest;
import io.ferrite.proto.v1.MultiWriteResponse;
import io.ferrite.proto.v1.PingRequest;
import io.ferrite.proto.v1.ReadRequest;
import io.ferrite.proto.v1.ReadResponse;
import io.ferrite.proto.v1.RejectRules;
import io.ferrite.proto.v1.RemoveRequest;
import io.ferrite.proto.v1.RemoveResponse;
import io.ferrite.proto.v1.ServerStatsRequest;
import io.ferrite.proto.v1.ServerStatsResponse;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.Tablet;
import io.ferrite.proto.v1.WriteRequest;
import io.ferrite.proto.v1.WriteResponse;
import io.ferrite.server.testing.InJvmCluster;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The data and control services of three real servers behind a real coordinator and ZooKeeper,
 * driven with raw gRPC stubs and routed by key hash over the tablet map, as any client would.
 */
class DataServiceClusterTest {
    private static InJvmCluster cluster;
    private static GetTabletMapResponse map;
    private static long tableId;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = InJvmCluster.builder().servers(3).start();
        map = cluster.createTable("objects", 3);
        tableId = map.getTableId();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    static byte[] key(String k) {
        return k.getBytes(StandardCharsets.UTF_8);
    }

    static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }

    static DataServiceGrpc.DataServiceBlockingStub owner(byte[] key) {
        return cluster.dataStub(InJvmCluster.ownerOf(map, key));
    }

    static WriteResponse write(String key, String value) {
        return owner(key(key)).write(WriteRequest.newBuilder().setTableId(tableId).setKey(bytes(key))
                .setValue(bytes(value)).build());
    }

    static ReadResponse read(String key) {
        return owner(key(key)).read(ReadRequest.newBuilder().setTableId(tableId).setKey(bytes(key)).build());
    }

    @Test
    void tableOfSpanThreeLandsOnThreeServersCoveringTheHashSpace() {
        assertThat(map.getTabletsList()).hasSize(3);
        assertThat(map.getTabletsList()).extracting(Tablet::getOwnerAddress).doesNotHaveDuplicates();
        assertThat(map.getTablets(0).getStartHash()).isZero();
        assertThat(map.getTablets(2).getEndHash()).isEqualTo(-1L);
        for (Tablet tablet : map.getTabletsList()) {
            assertThat(cluster.serverAt(tablet.getOwnerAddress()).tablets().owns(tableId, tablet.getStartHash()))
                    .isTrue();
        }
    }

    @Test
    void writeReadRemoveThroughTheOwners() {
        Map<String, Long> versions = new HashMap<>();
        for (int i = 0; i < 300; i++) {
            WriteResponse w = write("k" + i, "value-" + i);
            assertThat(w.getStatus()).isEqualTo(Status.OK);
            assertThat(w.getVersion()).isPositive();
            versions.put("k" + i, w.getVersion());
        }
        for (int i = 0; i < 300; i++) {
            ReadResponse r = read("k" + i);
            assertThat(r.getStatus()).isEqualTo(Status.OK);
            assertThat(r.getValue().toStringUtf8()).isEqualTo("value-" + i);
            assertThat(r.getVersion()).isEqualTo(versions.get("k" + i));
            assertThat(r.getTimestampSeconds()).isPositive();
        }
        // Every server got some of the keys.
        for (FerriteServer server : cluster.servers()) {
            assertThat(server.engine().stats().liveObjects()).isPositive();
        }
        RemoveResponse removed = owner(key("k7")).remove(
                RemoveRequest.newBuilder().setTableId(tableId).setKey(bytes("k7")).build());
        assertThat(removed.getStatus()).isEqualTo(Status.OK);
        assertThat(removed.getVersion()).isEqualTo(versions.get("k7"));
        assertThat(read("k7").getStatus()).isEqualTo(Status.OBJECT_DOESNT_EXIST);
        assertThat(owner(key("k7")).remove(RemoveRequest.newBuilder().setTableId(tableId).setKey(bytes("k7")).build())
                .getStatus()).isEqualTo(Status.OBJECT_DOESNT_EXIST);
        // A key's versions keep increasing after a remove.
        assertThat(write("k7", "again").getVersion()).isGreaterThan(versions.get("k7"));
    }

    @Test
    void conditionalWritesAndRemoves() {
        RejectRules ifAbsent = RejectRules.newBuilder().setExists(true).build();
        WriteRequest.Builder create = WriteRequest.newBuilder().setTableId(tableId).setKey(bytes("cond"))
                .setValue(bytes("first")).setRejectRules(ifAbsent);
        WriteResponse created = owner(key("cond")).write(create.build());
        assertThat(created.getStatus()).isEqualTo(Status.OK);
        WriteResponse again = owner(key("cond")).write(create.setValue(bytes("second")).build());
        assertThat(again.getStatus()).isEqualTo(Status.OBJECT_EXISTS);
        assertThat(again.getVersion()).isEqualTo(created.getVersion());

        RejectRules casWrong = RejectRules.newBuilder().setDoesntExist(true).setVersionNeGiven(true)
                .setGivenVersion(created.getVersion() + 100).build();
        WriteResponse wrong = owner(key("cond")).write(WriteRequest.newBuilder().setTableId(tableId)
                .setKey(bytes("cond")).setValue(bytes("cas")).setRejectRules(casWrong).build());
        assertThat(wrong.getStatus()).isEqualTo(Status.WRONG_VERSION);
        assertThat(wrong.getVersion()).isEqualTo(created.getVersion());

        RejectRules casRight = casWrong.toBuilder().setGivenVersion(created.getVersion()).build();
        WriteResponse right = owner(key("cond")).write(WriteRequest.newBuilder().setTableId(tableId)
                .setKey(bytes("cond")).setValue(bytes("cas")).setRejectRules(casRight).build());
        assertThat(right.getStatus()).isEqualTo(Status.OK);
        assertThat(read("cond").getValue().toStringUtf8()).isEqualTo("cas");

        RejectRules leGiven = RejectRules.newBuilder().setVersionLeGiven(true).setGivenVersion(right.getVersion())
                .build();
        RemoveResponse refused = owner(key("cond")).remove(RemoveRequest.newBuilder().setTableId(tableId)
                .setKey(bytes("cond")).setRejectRules(leGiven).build());
        assertThat(refused.getStatus()).isEqualTo(Status.WRONG_VERSION);
        assertThat(read("cond").getStatus()).isEqualTo(Status.OK);

        RejectRules mustExist = RejectRules.newBuilder().setDoesntExist(true).build();
        WriteResponse update = owner(key("absent-cond")).write(WriteRequest.newBuilder().setTableId(tableId)
                .setKey(bytes("absent-cond")).setValue(bytes("x")).setRejectRules(mustExist).build());
        assertThat(update.getStatus()).isEqualTo(Status.OBJECT_DOESNT_EXIST);
        assertThat(read("absent-cond").getStatus()).isEqualTo(Status.OBJECT_DOESNT_EXIST);
    }

    @Test
    void incrementsOfIntegersAndDoubles() {
        IncrementRequest.Builder inc = IncrementRequest.newBuilder().setTableId(tableId).setKey(bytes("counter"));
        assertThat(owner(key("counter")).increment(inc.setInt64Delta(5).build()).getInt64Value()).isEqualTo(5);
        IncrementResponse second = owner(key("counter")).increment(inc.setInt64Delta(-7).build());
        assertThat(second.getStatus()).isEqualTo(Status.OK);
        assertThat(second.getInt64Value()).isEqualTo(-2);
        assertThat(read("counter").getValue().size()).isEqualTo(8);

        IncrementRequest.Builder dinc = IncrementRequest.newBuilder().setTableId(tableId).setKey(bytes("gauge"));
        owner(key("gauge")).increment(dinc.setDoubleDelta(1.5).build());
        assertThat(owner(key("gauge")).increment(dinc.setDoubleDelta(0.25).build()).getDoubleValue())
                .isEqualTo(1.75);

        write("text", "not a number!");
        IncrementResponse nan = owner(key("text")).increment(IncrementRequest.newBuilder().setTableId(tableId)
                .setKey(bytes("text")).setInt64Delta(1).build());
        assertThat(nan.getStatus()).isEqualTo(Status.NOT_A_NUMBER);
        assertThat(read("text").getValue().toStringUtf8()).isEqualTo("not a number!");
    }

    @Test
    void multiOperationsPerOwner() {
        Map<String, List<String>> keysByOwner = new LinkedHashMap<>();
        for (int i = 0; i < 60; i++) {
            String k = "multi-" + i;
            keysByOwner.computeIfAbsent(InJvmCluster.ownerOf(map, key(k)), o -> new ArrayList<>()).add(k);
        }
        assertThat(keysByOwner).hasSize(3);
        for (Map.Entry<String, List<String>> e : keysByOwner.entrySet()) {
            DataServiceGrpc.DataServiceBlockingStub stub = cluster.dataStub(e.getKey());
            MultiWriteRequest.Builder writes = MultiWriteRequest.newBuilder();
            MultiReadRequest.Builder reads = MultiReadRequest.newBuilder();
            MultiRemoveRequest.Builder removes = MultiRemoveRequest.newBuilder();
            for (String k : e.getValue()) {
                writes.addItems(WriteRequest.newBuilder().setTableId(tableId).setKey(bytes(k)).setValue(bytes("v" + k)));
                reads.addItems(ReadRequest.newBuilder().setTableId(tableId).setKey(bytes(k)));
                removes.addItems(RemoveRequest.newBuilder().setTableId(tableId).setKey(bytes(k)));
            }
            // One item of another owner's: answered UNKNOWN_TABLET, the others unaffected.
            String foreign = keysByOwner.keySet().stream().filter(o -> !o.equals(e.getKey())).findFirst()
                    .map(o -> keysByOwner.get(o).get(0)).orElseThrow();
            reads.addItems(ReadRequest.newBuilder().setTableId(tableId).setKey(bytes(foreign)));

            MultiWriteResponse written = stub.multiWrite(writes.build());
            assertThat(written.getItemsList()).extracting(WriteResponse::getStatus).containsOnly(Status.OK);
            MultiReadResponse read = stub.multiRead(reads.build());
            assertThat(read.getItemsCount()).isEqualTo(e.getValue().size() + 1);
            for (int i = 0; i < e.getValue().size(); i++) {
                assertThat(read.getItems(i).getStatus()).isEqualTo(Status.OK);
                assertThat(read.getItems(i).getValue().toStringUtf8()).isEqualTo("v" + e.getValue().get(i));
            }
            assertThat(read.getItems(e.getValue().size()).getStatus()).isEqualTo(Status.UNKNOWN_TABLET);
            MultiRemoveResponse removed = stub.multiRemove(removes.build());
            assertThat(removed.getItemsList()).extracting(RemoveResponse::getStatus).containsOnly(Status.OK);
            assertThat(stub.multiRead(reads.build()).getItemsList()).extracting(ReadResponse::getStatus)
                    .containsOnly(Status.OBJECT_DOESNT_EXIST, Status.UNKNOWN_TABLET);
        }
    }

    @Test
    void enumerateEveryOwnerInBatchesAndResumeFromACursor() {
        GetTabletMapResponse scanMap = cluster.createTable("scan", 3);
        long scanId = scanMap.getTableId();
        Set<String> written = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            String k = "scan-" + i;
            DataServiceGrpc.DataServiceBlockingStub stub = cluster.dataStub(InJvmCluster.ownerOf(scanMap, key(k)));
            assertThat(stub.write(WriteRequest.newBuilder().setTableId(scanId).setKey(bytes(k)).setValue(bytes("v" + i))
                    .build()).getStatus()).isEqualTo(Status.OK);
            written.add(k);
        }
        Set<String> seen = new HashSet<>();
        for (Tablet tablet : scanMap.getTabletsList()) {
            DataServiceGrpc.DataServiceBlockingStub stub = cluster.dataStub(tablet.getOwnerAddress());
            List<EnumerateResponse> batches = new ArrayList<>();
            stub.enumerate(EnumerateRequest.newBuilder().setTableId(scanId).setBatchObjects(17).build())
                    .forEachRemaining(batches::add);
            assertThat(batches).isNotEmpty();
            assertThat(batches.get(batches.size() - 1).getDone()).isTrue();
            long previousHash = 0;
            for (EnumerateResponse batch : batches) {
                assertThat(batch.getStatus()).isEqualTo(Status.OK);
                assertThat(batch.getObjectsCount()).isLessThanOrEqualTo(17);
                for (EnumeratedObject o : batch.getObjectsList()) {
                    long hash = io.ferrite.proto.KeyHash.hash(o.getKey().toByteArray());
                    assertThat(Long.compareUnsigned(Long.reverse(hash), Long.reverse(previousHash)))
                            .as("cursor order: bit-reversed hash").isGreaterThanOrEqualTo(0);
                    assertThat(Long.compareUnsigned(hash, tablet.getStartHash()) >= 0
                            && Long.compareUnsigned(hash, tablet.getEndHash()) <= 0).as("hash in the tablet").isTrue();
                    previousHash = hash;
                    assertThat(seen.add(o.getKey().toStringUtf8())).as("enumerated twice").isTrue();
                    assertThat(o.getVersion()).isPositive();
                }
            }
            // Resume after the second batch: exactly what followed it comes again.
            if (batches.size() > 3) {
                List<String> rest = new ArrayList<>();
                batches.subList(2, batches.size()).forEach(b -> b.getObjectsList()
                        .forEach(o -> rest.add(o.getKey().toStringUtf8())));
                List<String> resumed = new ArrayList<>();
                stub.enumerate(EnumerateRequest.newBuilder().setTableId(scanId).setBatchObjects(17)
                                .setCursor(batches.get(1).getCursor()).build())
                        .forEachRemaining(b -> b.getObjectsList().forEach(o -> resumed.add(o.getKey().toStringUtf8())));
                assertThat(resumed).isEqualTo(rest);
            }
        }
        assertThat(seen).isEqualTo(written);
    }

    @Test
    void nonOwnerAndUnknownTableAnswerUnknownTablet() {
        write("mine", "v");
        String other = cluster.nonOwnerOf(map, key("mine"));
        ReadResponse fromOther = cluster.dataStub(other).read(ReadRequest.newBuilder().setTableId(tableId)
                .setKey(bytes("mine")).build());
        assertThat(fromOther.getStatus()).isEqualTo(Status.UNKNOWN_TABLET);
        assertThat(fromOther.getMessage()).contains("owns no tablet");
        assertThat(cluster.dataStub(other).write(WriteRequest.newBuilder().setTableId(tableId).setKey(bytes("mine"))
                .setValue(bytes("stolen")).build()).getStatus()).isEqualTo(Status.UNKNOWN_TABLET);
        assertThat(read("mine").getValue().toStringUtf8()).isEqualTo("v");

        ReadResponse unknownTable = owner(key("mine")).read(ReadRequest.newBuilder().setTableId(987_654_321L)
                .setKey(bytes("mine")).build());
        assertThat(unknownTable.getStatus()).isEqualTo(Status.UNKNOWN_TABLET);
        List<EnumerateResponse> scan = new ArrayList<>();
        owner(key("mine")).enumerate(EnumerateRequest.newBuilder().setTableId(987_654_321L).build())
                .forEachRemaining(scan::add);
        assertThat(scan).singleElement().extracting(EnumerateResponse::getStatus).isEqualTo(Status.UNKNOWN_TABLET);
    }

    @Test
    void streamMultiplexesManyRequestsInFlight() throws Exception {
        String address = map.getTablets(1).getOwnerAddress();
        List<String> keys = new ArrayList<>();
        for (int i = 0; keys.size() < 200; i++) {
            if (InJvmCluster.ownerOf(map, key("s" + i)).equals(address)) {
                keys.add("s" + i);
            }
        }
        int requests = 2_000;
        Map<Long, DataResponse> responses = new ConcurrentHashMap<>();
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        StreamObserver<DataRequest> stream = cluster.dataAsyncStub(address).stream(new StreamObserver<>() {
            @Override
            public void onNext(DataResponse response) {
                responses.put(response.getRequestId(), response);
            }

            @Override
            public void onError(Throwable t) {
                failure.set(t);
                done.countDown();
            }

            @Override
            public void onCompleted() {
                done.countDown();
            }
        });
        // Writes first, all sent without waiting, then reads of the same keys.
        for (int i = 0; i < requests / 2; i++) {
            String k = keys.get(i % keys.size());
            stream.onNext(DataRequest.newBuilder().setRequestId(i).setWrite(WriteRequest.newBuilder()
                    .setTableId(tableId).setKey(bytes(k)).setValue(bytes("stream-" + (i % keys.size())))).build());
        }
        for (int i = requests / 2; i < requests; i++) {
            String k = keys.get(i % keys.size());
            stream.onNext(DataRequest.newBuilder().setRequestId(i).setRead(ReadRequest.newBuilder()
                    .setTableId(tableId).setKey(bytes(k))).build());
        }
        stream.onNext(DataRequest.newBuilder().setRequestId(requests).build());
        stream.onCompleted();
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(failure.get()).isNull();
        assertThat(responses).hasSize(requests + 1);
        for (long i = 0; i < requests / 2; i++) {
            assertThat(responses.get(i).getWrite().getStatus()).isEqualTo(Status.OK);
        }
        for (long i = requests / 2; i < requests; i++) {
            ReadResponse r = responses.get(i).getRead();
            assertThat(r.getStatus()).isEqualTo(Status.OK);
            assertThat(r.getValue().toStringUtf8()).isEqualTo("stream-" + (i % keys.size()));
        }
        assertThat(responses.get((long) requests).getOpCase()).isEqualTo(DataResponse.OpCase.OP_NOT_SET);
    }

    @Test
    void controlServiceAnswersPingAndStats() {
        FerriteServer server = cluster.server(0);
        ControlServiceGrpc.ControlServiceBlockingStub control = cluster.controlStub(server.address());
        assertThat(control.ping(PingRequest.getDefaultInstance()).getServerId())
                .isEqualTo(server.serverId().orElseThrow().asLong());
        write("stats", "v");
        ServerStatsResponse stats = control.serverStats(ServerStatsRequest.getDefaultInstance());
        assertThat(stats.getMemoryBytes()).isEqualTo(64L << 20);
        assertThat(stats.getSegments()).isPositive();

        // Tablets meant for another server id (say an earlier generation at this address) are refused.
        long self = server.serverId().orElseThrow().asLong();
        TakeTabletsResponse wrong = control.takeTablets(TakeTabletsRequest.newBuilder().setServerId(self + 1)
                .addTablets(OwnedTablet.newBuilder().setTableId(999).setStartHash(0).setEndHash(-1L)).build());
        assertThat(wrong.getStatus()).isEqualTo(Status.WRONG_SERVER);
        ReadResponse unowned = cluster.dataStub(server.address()).read(ReadRequest.newBuilder().setTableId(999)
                .setKey(ByteString.copyFromUtf8("k")).build());
        assertThat(unowned.getStatus()).as("nothing was taken").isEqualTo(Status.UNKNOWN_TABLET);
    }

    @Test
    void metricsEndpointServesOperationCounters() throws Exception {
        write("metered", "v");
        assertThat(read("metered").getStatus()).isEqualTo(Status.OK);
        String owner = InJvmCluster.ownerOf(map, key("metered"));
        String metrics = cluster.serverAt(owner).metricsAddress().orElseThrow();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://" + metrics + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body())
                .contains("ferrite_ops_total{")
                .containsPattern("ferrite_ops_total\\{[^}]*op=\"read\"[^}]*status=\"OK\"[^}]*\\} [1-9]")
                .contains("ferrite_op_latency_seconds_bucket{")
                .contains("ferrite_log_utilization")
                .contains("ferrite_cleaner_moved_bytes_total")
                .contains("ferrite_zookeeper_connected{role=\"server\"} 1")
                .contains("jvm_memory_used_bytes");
        HttpResponse<String> missing = http.send(HttpRequest.newBuilder(URI.create("http://" + metrics + "/nope"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(missing.statusCode()).isEqualTo(404);
    }

    @Test
    void droppedTableIsForgottenByItsMasters() {
        GetTabletMapResponse doomed = cluster.createTable("doomed", 3);
        long doomedId = doomed.getTableId();
        for (int i = 0; i < 30; i++) {
            String k = "d" + i;
            cluster.dataStub(InJvmCluster.ownerOf(doomed, key(k))).write(WriteRequest.newBuilder().setTableId(doomedId)
                    .setKey(bytes(k)).setValue(bytes("v")).build());
        }
        assertThat(cluster.coordinatorStub().dropTable(DropTableRequest.newBuilder().setName("doomed").build())
                .getStatus()).isEqualTo(Status.OK);
        for (FerriteServer server : cluster.servers()) {
            assertThat(server.tablets().ownsAny(doomedId)).isFalse();
            assertThat(server.engine().tableCounters()).doesNotContainKey(doomedId);
        }
        assertThat(cluster.dataStub(InJvmCluster.ownerOf(doomed, key("d1"))).read(ReadRequest.newBuilder()
                .setTableId(doomedId).setKey(bytes("d1")).build()).getStatus()).isEqualTo(Status.UNKNOWN_TABLET);
    }
}
