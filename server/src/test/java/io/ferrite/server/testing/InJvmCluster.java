package io.ferrite.server.testing;

import io.ferrite.coordinator.Coordinator;
import io.ferrite.coordinator.CoordinatorContext;
import io.ferrite.proto.KeyHash;
import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.CreateTableRequest;
import io.ferrite.proto.v1.CreateTableResponse;
import io.ferrite.proto.v1.DataServiceGrpc;
import io.ferrite.proto.v1.GetTabletMapRequest;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.ListServersRequest;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.Tablet;
import io.ferrite.server.FerriteServer;
import io.ferrite.server.ServerContext;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.curator.test.TestingServer;
import org.awaitility.Awaitility;

/**
 * A whole cluster in this JVM for tests: a real ZooKeeper (Curator's {@link TestingServer}),
 * one {@link Coordinator} and N {@link FerriteServer}s, all on 127.0.0.1 with ephemeral ports,
 * plus cached client channels. {@link #start()} returns once every server is registered and
 * the coordinator sees it UP, so a table of span N lands on N distinct servers.
 *
 * <pre>{@code
 * try (InJvmCluster cluster = InJvmCluster.builder().servers(3).start()) {
 *     GetTabletMapResponse map = cluster.createTable("t", 3);
 *     DataServiceGrpc.DataServiceBlockingStub owner = cluster.dataStub(InJvmCluster.ownerOf(map, key));
 * }
 * }</pre>
 *
 * <p>Failure detection is more tolerant than the defaults (lease 2 s, probe after 1.5 s of
 * silence, 2 probes of 500 ms), as every process of the cluster shares this JVM and two cores
 * with the build: a stall of a second must not get a server declared CRASHED (which is final) in
 * a test about something else. Tests of detection set their own ({@link Builder#coordinatorSettings}).
 *
 * <p>Other modules' tests reuse it through this module's test-jar
 * ({@code ferrite-server}, type {@code test-jar}, plus {@code curator-test}).
 */
public final class InJvmCluster implements AutoCloseable {
    /** Deadline of every call made through the harness's stubs. */
    public static final Duration CALL_DEADLINE = Duration.ofSeconds(20);
    /** How long start-up and table creation may take. */
    public static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final AtomicInteger CLUSTERS = new AtomicInteger();

    private final Builder builder;
    private final String name;
    private TestingServer zookeeper;
    private Coordinator coordinator;
    private final List<FerriteServer> servers = new ArrayList<>();
    private final List<Coordinator> extraCoordinators = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private int serversStarted;

    /** How the cluster is built. */
    public static final class Builder {
        private int servers = 3;
        private long memoryBytes = 64L << 20;
        private int sessionTimeoutMs = 5_000;
        private String clusterName;
        private Consumer<ServerContext> serverSettings = c -> {
        };
        private Consumer<CoordinatorContext> coordinatorSettings = c -> {
        };

        public Builder servers(int count) {
            this.servers = count;
            return this;
        }

        /** Memory of each server (default 64 MiB). */
        public Builder memoryBytes(long bytes) {
            this.memoryBytes = bytes;
            return this;
        }

        /** ZooKeeper session timeout of servers and coordinator (default 5 s). */
        public Builder sessionTimeoutMs(int ms) {
            this.sessionTimeoutMs = ms;
            return this;
        }

        public Builder clusterName(String name) {
            this.clusterName = name;
            return this;
        }

        /** Adjusts each server's context before it is concluded. */
        public Builder serverSettings(Consumer<ServerContext> settings) {
            this.serverSettings = settings;
            return this;
        }

        /** Adjusts the coordinator's context (after the harness's own settings) before it is concluded. */
        public Builder coordinatorSettings(Consumer<CoordinatorContext> settings) {
            this.coordinatorSettings = settings;
            return this;
        }

        public InJvmCluster start() throws Exception {
            InJvmCluster cluster = new InJvmCluster(this);
            try {
                cluster.startUp();
            } catch (Exception | Error e) {
                cluster.close();
                throw e;
            }
            return cluster;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    private InJvmCluster(Builder builder) {
        this.builder = builder;
        this.name = builder.clusterName != null ? builder.clusterName : "it-" + CLUSTERS.incrementAndGet();
    }

    private void startUp() throws Exception {
        zookeeper = new TestingServer(true);
        coordinator = Coordinator.start(coordinatorContext());
        if (!coordinator.awaitLeadership(START_TIMEOUT)) {
            throw new IllegalStateException("the coordinator did not become leader within " + START_TIMEOUT);
        }
        for (int i = 0; i < builder.servers; i++) {
            startServer();
        }
    }

    /** The coordinator's context: the harness's settings, then the builder's adjustments, concluded. */
    private CoordinatorContext coordinatorContext() {
        CoordinatorContext context = new CoordinatorContext()
                .zkConnect(zookeeper.getConnectString())
                .cluster(name)
                .listenHost("127.0.0.1")
                .listenPort(0)
                .sessionTimeoutMs(builder.sessionTimeoutMs)
                .masterRpcTimeoutMs(3_000)
                .forwardTimeoutMs(6_000)
                .retryIntervalMs(500)
                .leaseMs(2_000)
                .suspectAfterMs(1_500)
                .probeTimeoutMs(500);
        builder.coordinatorSettings.accept(context);
        return context.conclude();
    }

    /**
     * Starts one more coordinator (a standby while the first one leads) with the same settings.
     * It is closed with the cluster.
     */
    public Coordinator startCoordinator() throws IOException, InterruptedException {
        Coordinator standby = Coordinator.start(coordinatorContext());
        extraCoordinators.add(standby);
        return standby;
    }

    /** Starts one more server and waits until the coordinator sees it UP. */
    public FerriteServer startServer() throws IOException, InterruptedException {
        int index = serversStarted++;
        ServerContext context = new ServerContext()
                .zkConnect(zookeeper.getConnectString())
                .cluster(name)
                .listenHost("127.0.0.1")
                .listenPort(0)
                .memoryBytes(builder.memoryBytes)
                .metricsPort(0)
                .sessionTimeoutMs(builder.sessionTimeoutMs)
                .serverName("server-" + index)
                .failureDomain("rack-" + index)
                .rpcThreads(2)
                .shutdownGraceMs(500)
                .backup(false); // replication tests turn it on (with replicas) through serverSettings
        builder.serverSettings.accept(context);
        FerriteServer server = FerriteServer.start(context.conclude());
        servers.add(server);
        awaitUp(server.address());
        return server;
    }

    private void awaitUp(String address) {
        Awaitility.await("server " + address + " UP at the coordinator").atMost(START_TIMEOUT)
                .pollInterval(Duration.ofMillis(20))
                .until(() -> coordinatorStub().listServers(ListServersRequest.getDefaultInstance()).getServersList()
                        .stream().anyMatch(s -> s.getAddress().equals(address) && s.getStatus() == ServerStatus.UP));
    }

    /**
     * Creates a table through the coordinator and returns its tablet map once every tablet is
     * served (the coordinator answers RETRY until its masters confirmed TakeTablets).
     */
    public GetTabletMapResponse createTable(String table, int span) {
        CreateTableRequest request = CreateTableRequest.newBuilder().setName(table).setServerSpan(span).build();
        CreateTableResponse[] last = new CreateTableResponse[1];
        Awaitility.await("table " + table + " created").atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    last[0] = coordinatorStub().createTable(request);
                    if (last[0].getStatus() != Status.OK && last[0].getStatus() != Status.RETRY) {
                        throw new IllegalStateException("create table " + table + ": " + last[0].getStatus() + " "
                                + last[0].getMessage());
                    }
                    return last[0].getStatus() == Status.OK;
                });
        return tabletMap(table);
    }

    public GetTabletMapResponse tabletMap(String table) {
        return coordinatorStub().getTabletMap(GetTabletMapRequest.newBuilder().setName(table).build());
    }

    /** The owner address of the tablet holding {@code key} in a tablet map. */
    public static String ownerOf(GetTabletMapResponse map, byte[] key) {
        long hash = KeyHash.hash(key);
        for (Tablet tablet : map.getTabletsList()) {
            if (Long.compareUnsigned(hash, tablet.getStartHash()) >= 0
                    && Long.compareUnsigned(hash, tablet.getEndHash()) <= 0) {
                return tablet.getOwnerAddress();
            }
        }
        throw new IllegalStateException("no tablet holds hash " + Long.toUnsignedString(hash) + " in " + map);
    }

    /** An address of a server that does not own the tablet of {@code key}. */
    public String nonOwnerOf(GetTabletMapResponse map, byte[] key) {
        String owner = ownerOf(map, key);
        for (FerriteServer server : servers) {
            if (!server.address().equals(owner)) {
                return server.address();
            }
        }
        throw new IllegalStateException("every server owns the key");
    }

    // ---- channels and stubs (closed with the cluster) ----

    public ManagedChannel channel(String address) {
        return channels.computeIfAbsent(address, a -> NettyChannelBuilder.forTarget(a).usePlaintext()
                .maxInboundMessageSize(64 << 20).build());
    }

    private static final ClientInterceptor DEADLINE = new ClientInterceptor() {
        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            return next.newCall(method, options.getDeadline() != null ? options
                    : options.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS));
        }
    };

    public CoordinatorServiceGrpc.CoordinatorServiceBlockingStub coordinatorStub() {
        return CoordinatorServiceGrpc.newBlockingStub(channel(coordinator.address())).withInterceptors(DEADLINE);
    }

    public DataServiceGrpc.DataServiceBlockingStub dataStub(String address) {
        return DataServiceGrpc.newBlockingStub(channel(address)).withInterceptors(DEADLINE);
    }

    /** An asynchronous stub without a deadline (for streams). */
    public DataServiceGrpc.DataServiceStub dataAsyncStub(String address) {
        return DataServiceGrpc.newStub(channel(address));
    }

    public ControlServiceGrpc.ControlServiceBlockingStub controlStub(String address) {
        return ControlServiceGrpc.newBlockingStub(channel(address)).withInterceptors(DEADLINE);
    }

    // ---- parts ----

    public String name() {
        return name;
    }

    public TestingServer zookeeper() {
        return zookeeper;
    }

    public Coordinator coordinator() {
        return coordinator;
    }

    /** {@code host:port} of the coordinator: the cluster address clients connect to. */
    public String coordinatorAddress() {
        return coordinator.address();
    }

    public List<FerriteServer> servers() {
        return List.copyOf(servers);
    }

    public FerriteServer server(int index) {
        return servers.get(index);
    }

    public FerriteServer serverAt(String address) {
        for (FerriteServer server : servers) {
            if (server.address().equals(address)) {
                return server;
            }
        }
        throw new IllegalArgumentException("no server at " + address);
    }

    /** Stops one server (its session ends; the coordinator declares it CRASHED). */
    public void stopServer(FerriteServer server) {
        servers.remove(server);
        server.close();
    }

    @Override
    public void close() {
        for (ManagedChannel channel : channels.values()) {
            channel.shutdownNow();
        }
        for (ManagedChannel channel : channels.values()) {
            try {
                channel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        channels.clear();
        for (int i = servers.size() - 1; i >= 0; i--) {
            servers.get(i).close();
        }
        servers.clear();
        for (Coordinator extra : extraCoordinators) {
            extra.close();
        }
        if (coordinator != null) {
            coordinator.close();
        }
        if (zookeeper != null) {
            try {
                zookeeper.close();
            } catch (IOException e) {
                throw new IllegalStateException("closing ZooKeeper", e);
            }
        }
    }
}
