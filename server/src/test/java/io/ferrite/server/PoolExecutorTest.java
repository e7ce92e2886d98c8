package io.ferrite.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.ferrite.proto.v1.DataRequest;
import io.ferrite.proto.v1.DataResponse;
import io.ferrite.proto.v1.DataServiceGrpc;
import io.ferrite.proto.v1.EnumerateRequest;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.ReadRequest;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.WriteRequest;
import io.ferrite.server.testing.InJvmCluster;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The same services with {@code data-executor=pool}: data calls on the bounded RPC pool. */
class PoolExecutorTest {
    @Test
    void servesUnaryStreamAndEnumerateFromThePool() throws Exception {
        try (InJvmCluster cluster = InJvmCluster.builder().servers(1)
                .serverSettings(c -> c.dataExecutor(ServerContext.DataExecutor.POOL)).start()) {
            GetTabletMapResponse map = cluster.createTable("pooled", 1);
            long table = map.getTableId();
            DataServiceGrpc.DataServiceBlockingStub stub = cluster.dataStub(map.getTablets(0).getOwnerAddress());
            for (int i = 0; i < 100; i++) {
                assertThat(stub.write(WriteRequest.newBuilder().setTableId(table).setKey(ByteString.copyFromUtf8("p" + i))
                        .setValue(ByteString.copyFromUtf8("v" + i)).build()).getStatus()).isEqualTo(Status.OK);
            }
            int requests = 500;
            Map<Long, DataResponse> responses = new ConcurrentHashMap<>();
            CountDownLatch done = new CountDownLatch(1);
            StreamObserver<DataRequest> stream = cluster.dataAsyncStub(map.getTablets(0).getOwnerAddress())
                    .stream(new StreamObserver<>() {
                        @Override
                        public void onNext(DataResponse response) {
                            responses.put(response.getRequestId(), response);
                        }

                        @Override
                        public void onError(Throwable t) {
                            done.countDown();
                        }

                        @Override
                        public void onCompleted() {
                            done.countDown();
                        }
                    });
            for (int i = 0; i < requests; i++) {
                stream.onNext(DataRequest.newBuilder().setRequestId(i).setRead(ReadRequest.newBuilder().setTableId(table)
                        .setKey(ByteString.copyFromUtf8("p" + (i % 100)))).build());
            }
            stream.onCompleted();
            assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(responses).hasSize(requests);
            assertThat(responses.values()).allSatisfy(r -> assertThat(r.getRead().getStatus()).isEqualTo(Status.OK));
            AtomicInteger objects = new AtomicInteger();
            stub.enumerate(EnumerateRequest.newBuilder().setTableId(table).setBatchObjects(7).build())
                    .forEachRemaining(b -> objects.addAndGet(b.getObjectsCount()));
            assertThat(objects.get()).isEqualTo(100);
        }
    }
}
