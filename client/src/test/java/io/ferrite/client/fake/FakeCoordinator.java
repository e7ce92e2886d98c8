package io.ferrite.client.fake;

import io.ferrite.proto.v1.ClusterStatusRequest;
import io.ferrite.proto.v1.ClusterStatusResponse;
import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.CreateTableRequest;
import io.ferrite.proto.v1.CreateTableResponse;
import io.ferrite.proto.v1.DropTableRequest;
import io.ferrite.proto.v1.DropTableResponse;
import io.ferrite.proto.v1.GetTabletMapRequest;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.ListServersRequest;
import io.ferrite.proto.v1.ListServersResponse;
import io.ferrite.proto.v1.ListTablesRequest;
import io.ferrite.proto.v1.ListTablesResponse;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.TableInfo;
import io.ferrite.proto.v1.Tablet;
import io.grpc.stub.StreamObserver;

import java.util.concurrent.atomic.AtomicInteger;

/** A coordinator over the fake cluster's state; a follower answers NOT_LEADER to mutations. */
public final class FakeCoordinator extends CoordinatorServiceGrpc.CoordinatorServiceImplBase {
    private final FakeCluster cluster;
    private volatile String address;
    private volatile String leader;
    public final AtomicInteger tabletMapCalls = new AtomicInteger();
    public final AtomicInteger mutationCalls = new AtomicInteger();

    FakeCoordinator(FakeCluster cluster, String address, String leader) {
        this.cluster = cluster;
        this.address = address;
        this.leader = leader;
    }

    public String address() {
        return address;
    }

    void setAddress(String address) {
        this.address = address;
    }

    void setLeader(String leader) {
        this.leader = leader;
    }

    private boolean isLeader() {
        return address.equals(leader);
    }

    @Override
    public void createTable(CreateTableRequest request, StreamObserver<CreateTableResponse> out) {
        mutationCalls.incrementAndGet();
        CreateTableResponse.Builder r = CreateTableResponse.newBuilder();
        if (!isLeader()) {
            r.setStatus(Status.NOT_LEADER).setLeader(leader);
        } else if (request.getName().isEmpty()) {
            r.setStatus(Status.INVALID_ARGUMENT).setMessage("empty name");
        } else {
            FakeCluster.FakeTable t = cluster.createTable(request.getName(), request.getServerSpan());
            if (t == null) {
                r.setStatus(Status.TABLE_EXISTS);
            } else {
                r.setStatus(Status.OK).setTableId(t.id);
            }
        }
        out.onNext(r.build());
        out.onCompleted();
    }

    @Override
    public void dropTable(DropTableRequest request, StreamObserver<DropTableResponse> out) {
        mutationCalls.incrementAndGet();
        DropTableResponse.Builder r = DropTableResponse.newBuilder();
        if (!isLeader()) {
            r.setStatus(Status.NOT_LEADER).setLeader(leader);
        } else {
            r.setStatus(cluster.dropTable(request.getName()) ? Status.OK : Status.TABLE_DOESNT_EXIST);
        }
        out.onNext(r.build());
        out.onCompleted();
    }

    @Override
    public void listTables(ListTablesRequest request, StreamObserver<ListTablesResponse> out) {
        ListTablesResponse.Builder r = ListTablesResponse.newBuilder();
        for (FakeCluster.FakeTable t : cluster.tables()) {
            r.addTables(TableInfo.newBuilder().setName(t.name).setTableId(t.id).setTabletCount(t.tablets.size()));
        }
        out.onNext(r.build());
        out.onCompleted();
    }

    @Override
    public void getTabletMap(GetTabletMapRequest request, StreamObserver<GetTabletMapResponse> out) {
        tabletMapCalls.incrementAndGet();
        GetTabletMapResponse.Builder r = GetTabletMapResponse.newBuilder();
        synchronized (cluster) {
            FakeCluster.FakeTable t = request.getTableId() != 0 ? cluster.table(request.getTableId())
                    : cluster.table(request.getName());
            if (t == null) {
                r.setStatus(Status.TABLE_DOESNT_EXIST);
            } else {
                r.setStatus(Status.OK).setName(t.name).setTableId(t.id);
                for (FakeCluster.FakeTablet tablet : t.tablets) {
                    r.addTablets(Tablet.newBuilder().setTableId(t.id).setStartHash(tablet.start)
                            .setEndHash(tablet.end).setOwnerId(tablet.owner.serverId())
                            .setOwnerAddress(tablet.owner.address()).setState(tablet.state));
                }
            }
        }
        out.onNext(r.build());
        out.onCompleted();
    }

    @Override
    public void listServers(ListServersRequest request, StreamObserver<ListServersResponse> out) {
        ListServersResponse.Builder r = ListServersResponse.newBuilder();
        for (FakeMaster m : cluster.masters()) {
            r.addServers(ServerInfo.newBuilder().setServerId(m.serverId()).setAddress(m.address())
                    .addServices("master").setStatus(ServerStatus.UP));
        }
        out.onNext(r.build());
        out.onCompleted();
    }

    @Override
    public void clusterStatus(ClusterStatusRequest request, StreamObserver<ClusterStatusResponse> out) {
        out.onNext(ClusterStatusResponse.newBuilder().setCluster("fake").setLeader(leader).addCoordinators(address)
                .setServersUp(cluster.masters().size()).setTables(cluster.tables().size()).build());
        out.onCompleted();
    }
}
