package io.ferrite.coordinator;

import io.ferrite.coordinator.registry.ServerId;
import io.ferrite.coordinator.registry.ServerRegistry;
import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.DropTableDataRequest;
import io.ferrite.proto.v1.DropTableDataResponse;
import io.ferrite.proto.v1.PingRequest;
import io.ferrite.proto.v1.PingResponse;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.TakeTabletsRequest;
import io.ferrite.proto.v1.TakeTabletsResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A master that only has a control service: it records TakeTablets and DropTableData calls and
 * answers with a made-up log position, and answers Ping with its id (so the leader's probes find
 * it alive although it sends no heartbeats). Registered in the cluster like a real server.
 */
final class FakeMaster implements AutoCloseable {
    final List<TakeTabletsRequest> takes = new CopyOnWriteArrayList<>();
    final List<DropTableDataRequest> drops = new CopyOnWriteArrayList<>();
    final List<io.ferrite.proto.v1.TakeSnapshotRequest> snapshotsTaken = new CopyOnWriteArrayList<>();
    final List<io.ferrite.proto.v1.DropSnapshotRequest> snapshotsDropped = new CopyOnWriteArrayList<>();
    /** TakeSnapshot calls still to refuse with UNAVAILABLE. */
    final AtomicInteger failSnapshots = new AtomicInteger();
    /** TakeTablets calls still to fail with UNAVAILABLE. */
    final AtomicInteger failTakes = new AtomicInteger();
    private final AtomicLong nextSegment = new AtomicLong(100);
    private final Server server;
    private final ServerRegistry registry;
    final ServerId id;
    final String address;

    private FakeMaster(Server server, ServerRegistry registry, ServerId id, String address) {
        this.server = server;
        this.registry = registry;
        this.id = id;
        this.address = address;
    }

    static FakeMaster start(String zkConnect, String cluster, String name, String... services)
            throws IOException, InterruptedException {
        FakeMaster[] self = new FakeMaster[1];
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new ControlServiceGrpc.ControlServiceImplBase() {
                    @Override
                    public void ping(PingRequest request, StreamObserver<PingResponse> out) {
                        FakeMaster master = self[0];
                        out.onNext(PingResponse.newBuilder().setServerId(master == null ? 0 : master.idLong()).build());
                        out.onCompleted();
                    }

                    @Override
                    public void takeTablets(TakeTabletsRequest request, StreamObserver<TakeTabletsResponse> out) {
                        self[0].takeTablets(request, out);
                    }

                    @Override
                    public void takeSnapshot(io.ferrite.proto.v1.TakeSnapshotRequest request,
                            StreamObserver<io.ferrite.proto.v1.TakeSnapshotResponse> out) {
                        FakeMaster master = self[0];
                        if (master.failSnapshots.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                            out.onError(io.grpc.Status.UNAVAILABLE.withDescription("fake master refuses")
                                    .asRuntimeException());
                            return;
                        }
                        master.snapshotsTaken.add(request);
                        out.onNext(io.ferrite.proto.v1.TakeSnapshotResponse.newBuilder().setStatus(Status.OK)
                                .setCut(1_000 + request.getSnapshotId()).setObjects(10).setBytes(1_000).build());
                        out.onCompleted();
                    }

                    @Override
                    public void dropSnapshot(io.ferrite.proto.v1.DropSnapshotRequest request,
                            StreamObserver<io.ferrite.proto.v1.DropSnapshotResponse> out) {
                        self[0].snapshotsDropped.add(request);
                        out.onNext(io.ferrite.proto.v1.DropSnapshotResponse.newBuilder().setStatus(Status.OK).build());
                        out.onCompleted();
                    }

                    @Override
                    public void dropTableData(DropTableDataRequest request,
                            StreamObserver<DropTableDataResponse> out) {
                        self[0].drops.add(request);
                        out.onNext(DropTableDataResponse.newBuilder().setStatus(Status.OK).build());
                        out.onCompleted();
                    }
                })
                .build()
                .start();
        String address = "127.0.0.1:" + server.getPort();
        ServerRegistry registry = ServerRegistry.connect(zkConnect, cluster, Duration.ofSeconds(5),
                Duration.ofSeconds(5));
        List<String> serviceList = services.length == 0 ? List.of("master") : List.of(services);
        ServerId id = registry.register(name, address, serviceList, "rack-" + name);
        self[0] = new FakeMaster(server, registry, id, address);
        return self[0];
    }

    private void takeTablets(TakeTabletsRequest request, StreamObserver<TakeTabletsResponse> out) {
        if (failTakes.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            out.onError(io.grpc.Status.UNAVAILABLE.withDescription("fake master refuses").asRuntimeException());
            return;
        }
        takes.add(request);
        out.onNext(TakeTabletsResponse.newBuilder().setStatus(Status.OK)
                .setLogSegmentId(nextSegment.getAndIncrement()).setLogOffset(42).build());
        out.onCompleted();
    }

    long idLong() {
        return id.asLong();
    }

    /** Ends the ZooKeeper session (the liveness node goes) and the gRPC server. */
    @Override
    public void close() {
        registry.close();
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
