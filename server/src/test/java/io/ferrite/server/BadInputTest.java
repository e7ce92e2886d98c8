package io.ferrite.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.ferrite.proto.v1.DataRequest;
import io.ferrite.proto.v1.DataResponse;
import io.ferrite.proto.v1.DataServiceGrpc;
import io.ferrite.proto.v1.EnumerateRequest;
import io.ferrite.proto.v1.EnumerateResponse;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.IncrementRequest;
import io.ferrite.proto.v1.MultiReadRequest;
import io.ferrite.proto.v1.MultiReadResponse;
import io.ferrite.proto.v1.MultiWriteRequest;
import io.ferrite.proto.v1.ReadRequest;
import io.ferrite.proto.v1.ReadResponse;
import io.ferrite.proto.v1.RemoveRequest;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.WriteRequest;
import io.ferrite.proto.v1.WriteResponse;
import io.ferrite.server.testing.InJvmCluster;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Whatever a client sends, the server answers with a clear status or drops the connection,
 * and keeps serving: after every abuse, a known object still reads back correctly.
 */
class BadInputTest {
    private static final long SEED = new Random().nextLong();
    private static InJvmCluster cluster;
    private static long tableId;
    private static String address;
    private static DataServiceGrpc.DataServiceBlockingStub stub;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = InJvmCluster.builder().servers(1).start();
        GetTabletMapResponse map = cluster.createTable("abuse", 1);
        tableId = map.getTableId();
        address = map.getTablets(0).getOwnerAddress();
        stub = cluster.dataStub(address);
        assertThat(stub.write(write("canary", "alive")).getStatus()).isEqualTo(Status.OK);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** After every test: the server still serves a correct read. */
    @AfterEach
    void serverStillServes() {
        ReadResponse canary = stub.read(ReadRequest.newBuilder().setTableId(tableId).setKey(bytes("canary")).build());
        assertThat(canary.getStatus()).as("seed %d", SEED).isEqualTo(Status.OK);
        assertThat(canary.getValue().toStringUtf8()).isEqualTo("alive");
    }

    /** I9: a multi-op over the item cap is refused whole, and the SDK cannot be set to send one. */
    @Test
    void aMultiOpOverTheItemLimitIsRefusedWhole() {
        int limit = io.ferrite.master.data.Limits.MAX_MULTI_OP_ITEMS;
        MultiWriteRequest.Builder tooMany = MultiWriteRequest.newBuilder();
        for (int i = 0; i <= limit; i++) {
            tooMany.addItems(write("many-" + i, "v"));
        }
        io.ferrite.proto.v1.MultiWriteResponse refused = stub.multiWrite(tooMany.build());
        assertThat(refused.getItemsCount()).isEqualTo(limit + 1);
        assertThat(refused.getItemsList()).allMatch(i -> i.getStatus() == Status.INVALID_ARGUMENT
                && i.getMessage().contains(String.valueOf(limit)));
        assertThat(stub.read(ReadRequest.newBuilder().setTableId(tableId).setKey(bytes("many-0")).build())
                .getStatus()).as("nothing of a refused request was written").isEqualTo(Status.OBJECT_DOESNT_EXIST);
        MultiReadRequest.Builder reads = MultiReadRequest.newBuilder();
        for (int i = 0; i <= limit; i++) {
            reads.addItems(ReadRequest.newBuilder().setTableId(tableId).setKey(bytes("canary")));
        }
        assertThat(stub.multiRead(reads.build()).getItemsList()).allMatch(i -> i.getStatus() == Status.INVALID_ARGUMENT);
        tooMany.removeItems(limit);
        assertThat(stub.multiWrite(tooMany.build()).getItemsList()).as("exactly the limit is accepted")
                .allMatch(i -> i.getStatus() == Status.OK);
        assertThatThrownBy(() -> io.ferrite.client.ClientOptions.builder().multiOpBatch(limit + 1, 1 << 20).build())
                .isInstanceOf(io.ferrite.client.InvalidArgumentException.class).hasMessageContaining("" + limit);
        assertThat(io.ferrite.client.ClientOptions.MAX_MULTI_OP_BATCH_ITEMS).isEqualTo(limit);
    }

    static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }

    static WriteRequest write(String key, String value) {
        return WriteRequest.newBuilder().setTableId(tableId).setKey(bytes(key)).setValue(bytes(value)).build();
    }

    @Test
    void oversizedAndEmptyKeysAreInvalidArguments() {
        ByteString big = ByteString.copyFrom(new byte[65_536]);
        ByteString max = ByteString.copyFrom(new byte[65_535]);
        ReadResponse read = stub.read(ReadRequest.newBuilder().setTableId(tableId).setKey(big).build());
        assertThat(read.getStatus()).isEqualTo(Status.INVALID_ARGUMENT);
        assertThat(read.getMessage()).contains("65536 bytes");
        assertThat(stub.write(WriteRequest.newBuilder().setTableId(tableId).setKey(big).build()).getStatus())
                .isEqualTo(Status.INVALID_ARGUMENT);
        assertThat(stub.remove(RemoveRequest.newBuilder().setTableId(tableId).setKey(big).build()).getStatus())
                .isEqualTo(Status.INVALID_ARGUMENT);
        assertThat(stub.increment(IncrementRequest.newBuilder().setTableId(tableId).setKey(big).setInt64Delta(1)
                .build()).getStatus()).isEqualTo(Status.INVALID_ARGUMENT);
        WriteResponse empty = stub.write(WriteRequest.newBuilder().setTableId(tableId).setValue(bytes("v")).build());
        assertThat(empty.getStatus()).isEqualTo(Status.INVALID_ARGUMENT);
        assertThat(empty.getMessage()).contains("key is empty");
        // The largest key is fine.
        assertThat(stub.write(WriteRequest.newBuilder().setTableId(tableId).setKey(max).setValue(bytes("v")).build())
                .getStatus()).isEqualTo(Status.OK);
        assertThat(stub.read(ReadRequest.newBuilder().setTableId(tableId).setKey(max).build()).getValue())
                .isEqualTo(bytes("v"));
    }

    @Test
    void oversizedValueIsAnInvalidArgumentAndTheLargestIsFine() {
        WriteResponse tooBig = stub.write(WriteRequest.newBuilder().setTableId(tableId).setKey(bytes("big"))
                .setValue(ByteString.copyFrom(new byte[(1 << 20) + 1])).build());
        assertThat(tooBig.getStatus()).isEqualTo(Status.INVALID_ARGUMENT);
        assertThat(tooBig.getMessage()).contains("value is 1048577 bytes");
        assertThat(stub.read(ReadRequest.newBuilder().setTableId(tableId).setKey(bytes("big")).build()).getStatus())
                .isEqualTo(Status.OBJECT_DOESNT_EXIST);
        byte[] largest = new byte[1 << 20];
        new Random(SEED).nextBytes(largest);
        assertThat(stub.write(WriteRequest.newBuilder().setTableId(tableId).setKey(bytes("big"))
                .setValue(ByteString.copyFrom(largest)).build()).getStatus()).isEqualTo(Status.OK);
        assertThat(stub.read(ReadRequest.newBuilder().setTableId(tableId).setKey(bytes("big")).build()).getValue()
                .toByteArray()).isEqualTo(largest);
    }

    @Test
    void missingFieldsAndUnknownTables() {
        ReadResponse noTable = stub.read(ReadRequest.newBuilder().setKey(bytes("canary")).build());
        assertThat(noTable.getStatus()).isEqualTo(Status.INVALID_ARGUMENT);
        assertThat(noTable.getMessage()).contains("table_id is missing");
        assertThat(stub.increment(IncrementRequest.newBuilder().setTableId(tableId).setKey(bytes("n")).build())
                .getMessage()).contains("delta is missing");
        assertThat(stub.read(ReadRequest.newBuilder().setTableId(tableId + 1_000).setKey(bytes("canary")).build())
                .getStatus()).isEqualTo(Status.UNKNOWN_TABLET);
        List<EnumerateResponse> noTableScan = new ArrayList<>();
        stub.enumerate(EnumerateRequest.getDefaultInstance()).forEachRemaining(noTableScan::add);
        assertThat(noTableScan).singleElement().extracting(EnumerateResponse::getStatus)
                .isEqualTo(Status.INVALID_ARGUMENT);
        List<EnumerateResponse> badCursor = new ArrayList<>();
        stub.enumerate(EnumerateRequest.newBuilder().setTableId(tableId).setCursor(bytes("garbage cursor")).build())
                .forEachRemaining(badCursor::add);
        assertThat(badCursor).singleElement().extracting(EnumerateResponse::getMessage).asString()
                .contains("cursor");
    }

    @Test
    void requestOverSixteenMebibytesIsRefusedByTheTransport() {
        MultiWriteRequest.Builder huge = MultiWriteRequest.newBuilder();
        for (int i = 0; i < 17; i++) {
            huge.addItems(WriteRequest.newBuilder().setTableId(tableId).setKey(bytes("huge-" + i))
                    .setValue(ByteString.copyFrom(new byte[1 << 20])));
        }
        assertThatThrownBy(() -> stub.multiWrite(huge.build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                        .isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED));
    }

    @Test
    void multiReadStopsAtItsResponseBudget() {
        assertThat(stub.write(WriteRequest.newBuilder().setTableId(tableId).setKey(bytes("mebibyte"))
                .setValue(ByteString.copyFrom(new byte[1 << 20])).build()).getStatus()).isEqualTo(Status.OK);
        MultiReadRequest.Builder reads = MultiReadRequest.newBuilder();
        for (int i = 0; i < 20; i++) {
            reads.addItems(ReadRequest.newBuilder().setTableId(tableId).setKey(bytes("mebibyte")));
        }
        MultiReadResponse response = stub.multiRead(reads.build());
        assertThat(response.getItemsList()).extracting(ReadResponse::getStatus)
                .containsSequence(Status.OK, Status.OK)
                .endsWith(Status.RETRY, Status.RETRY, Status.RETRY);
        assertThat(response.getItemsList().stream().filter(r -> r.getStatus() == Status.OK).count()).isEqualTo(17);
    }

    @Test
    void enumerateBatchesStayWithinTheirByteBudget() {
        GetTabletMapResponse large = cluster.createTable("large", 1);
        byte[] value = new byte[900 << 10];
        for (int i = 0; i < 7; i++) {
            assertThat(stub.write(WriteRequest.newBuilder().setTableId(large.getTableId()).setKey(bytes("l" + i))
                    .setValue(ByteString.copyFrom(value)).build()).getStatus()).isEqualTo(Status.OK);
        }
        List<EnumerateResponse> batches = new ArrayList<>();
        stub.enumerate(EnumerateRequest.newBuilder().setTableId(large.getTableId()).build())
                .forEachRemaining(batches::add);
        assertThat(batches.stream().mapToInt(EnumerateResponse::getObjectsCount).sum()).isEqualTo(7);
        assertThat(batches).hasSizeGreaterThanOrEqualTo(3).allSatisfy(b -> {
            assertThat(b.getStatus()).isEqualTo(Status.OK);
            assertThat(b.getSerializedSize()).isLessThan(3 << 20);
        });
    }

    @Test
    void garbageBytesOnTheGrpcPortAreDropped() throws Exception {
        int port = cluster.serverAt(address).port();
        Random random = new Random(SEED);
        byte[] noise = new byte[8_192];
        random.nextBytes(noise);
        byte[] preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] http1 = "GET /ferrite.v1.DataService/Read HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        for (byte[][] attempt : new byte[][][] {{noise}, {preface, noise}, {http1}}) {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                socket.setSoTimeout(10_000);
                OutputStream out = socket.getOutputStream();
                try {
                    for (byte[] part : attempt) {
                        out.write(part);
                    }
                    out.flush();
                } catch (java.io.IOException e) {
                    // The server may close while we are still writing: that is a fine answer.
                }
                assertThat(readsToTheEnd(socket.getInputStream())).as("connection closed by the server").isTrue();
            }
        }
    }

    /** True when the peer closes (end of stream or reset) before the read times out. */
    private static boolean readsToTheEnd(InputStream in) {
        byte[] buffer = new byte[4_096];
        try {
            while (in.read(buffer) >= 0) {
                // Whatever the server says (a GOAWAY frame) before it closes.
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (java.io.IOException e) {
            return true;
        }
    }

    @Test
    void clientCancellingAnEnumerateMidWay() throws Exception {
        for (int i = 0; i < 2_000; i++) {
            stub.write(write("e" + i, "value-" + i));
        }
        ManagedChannel channel = NettyChannelBuilder.forTarget(address).usePlaintext().build();
        try {
            for (int round = 0; round < 5; round++) {
                ClientCall<EnumerateRequest, EnumerateResponse> call = channel.newCall(
                        DataServiceGrpc.getEnumerateMethod(), CallOptions.DEFAULT);
                CountDownLatch firstBatch = new CountDownLatch(1);
                CountDownLatch closed = new CountDownLatch(1);
                call.start(new ClientCall.Listener<>() {
                    @Override
                    public void onMessage(EnumerateResponse message) {
                        firstBatch.countDown();
                    }

                    @Override
                    public void onClose(io.grpc.Status status, Metadata trailers) {
                        closed.countDown();
                    }
                }, new Metadata());
                call.sendMessage(EnumerateRequest.newBuilder().setTableId(tableId).setBatchObjects(10).build());
                call.halfClose();
                call.request(1);
                assertThat(firstBatch.await(10, TimeUnit.SECONDS)).isTrue();
                call.cancel("test gives up mid-way", null);
                assertThat(closed.await(10, TimeUnit.SECONDS)).isTrue();
            }
            // Abandon one stream without cancelling: the channel itself goes away.
            ClientCall<EnumerateRequest, EnumerateResponse> abandoned = channel.newCall(
                    DataServiceGrpc.getEnumerateMethod(), CallOptions.DEFAULT);
            abandoned.start(new ClientCall.Listener<>() {
            }, new Metadata());
            abandoned.sendMessage(EnumerateRequest.newBuilder().setTableId(tableId).setBatchObjects(5).build());
            abandoned.halfClose();
            abandoned.request(1);
        } finally {
            channel.shutdownNow();
            assertThat(channel.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
        // A full enumeration still works and sees everything.
        AtomicInteger objects = new AtomicInteger();
        stub.enumerate(EnumerateRequest.newBuilder().setTableId(tableId).build())
                .forEachRemaining(b -> objects.addAndGet(b.getObjectsCount()));
        assertThat(objects.get()).isGreaterThanOrEqualTo(2_001);
    }

    @Test
    void clientDisconnectingFromAStreamWithRequestsInFlight() throws Exception {
        ManagedChannel channel = NettyChannelBuilder.forTarget(address).usePlaintext().build();
        AtomicInteger answered = new AtomicInteger();
        StreamObserver<DataRequest> stream = DataServiceGrpc.newStub(channel).stream(new StreamObserver<>() {
            @Override
            public void onNext(DataResponse value) {
                answered.incrementAndGet();
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
            }
        });
        for (int i = 0; i < 500; i++) {
            stream.onNext(DataRequest.newBuilder().setRequestId(i).setWrite(write("flight-" + (i % 50), "v" + i))
                    .build());
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> answered.get() > 0);
        channel.shutdownNow();
        assertThat(channel.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThat(stub.read(ReadRequest.newBuilder().setTableId(tableId).setKey(bytes("flight-1")).build())
                .getStatus()).isEqualTo(Status.OK);
    }
}
