package io.ferrite.server;

import io.ferrite.coordinator.registry.ServerId;
import io.ferrite.backup.BackupService;
import io.ferrite.backup.ReplicaInfo;
import io.ferrite.backup.ReplicaStore;
import io.ferrite.master.EngineContext;
import io.ferrite.master.EngineStats;
import io.ferrite.master.replication.ReplicaManager;
import io.ferrite.server.replication.AeronTransport;
import io.ferrite.master.ObjectManager;
import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.DataServiceGrpc;
import io.ferrite.server.control.ControlServiceImpl;
import io.ferrite.server.data.DataServiceImpl;
import io.ferrite.server.lease.Lease;
import io.ferrite.server.lease.Membership;
import io.ferrite.server.metrics.ErrorReporter;
import io.ferrite.server.metrics.MetricsEndpoint;
import io.ferrite.server.metrics.OpMetrics;
import io.ferrite.server.metrics.ProcessMetrics;
import io.ferrite.server.metrics.ServerGauges;
import io.ferrite.server.tablet.TabletSet;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server hosting the master service: the engine ({@link ObjectManager}), the data and
 * control services over gRPC, membership and fencing through ZooKeeper ({@link Membership}),
 * and the Prometheus endpoint. The backup service joins it with the replication issue.
 *
 * <p>Start-up: engine, gRPC server (so the port is known), metrics endpoint, ZooKeeper session
 * and registration under the stable name as services {@code ["master"]}. Until registered the
 * server owns no tablets and its lease is not valid, so it serves no data. Data calls run on
 * the transport threads ({@code data-executor=direct}, the default) or a bounded pool;
 * Enumerate streams and control calls always run on the pool, as they may take long.
 *
 * <p>Stop ({@link #close()}): the lease closes (data calls are refused at once), the gRPC server
 * drains for {@code shutdown-grace-ms} and is then cut, the liveness node and session go (the
 * coordinator declares the server CRASHED: in this version memory is the only copy), and the
 * engine's memory is released only after no call can still run.
 */
public final class FerriteServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FerriteServer.class);
    /** The services this server registers: the master only, until the backup service exists. */
    public static final List<String> SERVICES = List.of("master");

    /** Most log bytes in one replication message. */
    static final int REPLICATION_CHUNK_BYTES = 1 << 20;
    /** How long a backup may take to answer before the master resends, then replaces it. */
    static final long REPLICATION_ACK_TIMEOUT_MS = 500;

    private final ServerContext context;
    private final TabletSet tablets = new TabletSet();
    /** Consulted by the services from the start: STARTING (serve nothing) until registered. */
    private final Lease lease = new Lease();
    private final ProcessMetrics processMetrics;
    private final ErrorReporter errors;
    private final OpMetrics opMetrics;
    private ObjectManager engine;
    private AeronTransport aeron;
    private ReplicaStore replicaStore;
    private BackupService backupService;
    private ReplicaManager replicaManager;
    private String replicationChannel = "";
    private ExecutorService rpcPool;
    private Server grpc;
    private Membership membership;
    private ServerGauges gauges;
    private MetricsEndpoint metricsEndpoint;
    private String address;
    private volatile boolean closed;

    private FerriteServer(ServerContext context, ProcessMetrics processMetrics) {
        this.context = context;
        this.processMetrics = processMetrics;
        this.errors = new ErrorReporter(processMetrics.registry());
        this.opMetrics = new OpMetrics(processMetrics.registry());
    }

    /**
     * Starts a server and registers it in the cluster.
     *
     * @param context a concluded context
     * @throws IOException if the listen or metrics port cannot be bound (the message names the setting)
     * @throws io.ferrite.coordinator.zk.ClusterStoreException if ZooKeeper cannot be reached in time
     */
    public static FerriteServer start(ServerContext context) throws IOException, InterruptedException {
        context.checkConcluded();
        FerriteServer server = new FerriteServer(context, new ProcessMetrics("server"));
        try {
            server.startUp();
        } catch (IOException | InterruptedException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    private void startUp() throws IOException, InterruptedException {
        EngineContext engineContext = context.engineContext(tablets);
        if (context.needsAeron()) {
            aeron = context.externalDriver() ? AeronTransport.connect(context.aeronDir())
                    : AeronTransport.launch(context.aeronDir());
        }
        if (context.backup()) {
            startBackup();
        }
        if (context.replicas() > 0) {
            int replyPort = AeronTransport.udpPort(context.listenHost(), 0);
            replicaManager = new ReplicaManager(context.replicas(), aeron.aeron(), this::selfId, this::liveBackups,
                    AeronTransport.udpChannel(context.advertisedHost(), replyPort), REPLICATION_CHUNK_BYTES,
                    Duration.ofMillis(REPLICATION_ACK_TIMEOUT_MS));
            replicaManager.failureDomain(context.failureDomain());
            engineContext.replicationHook(replicaManager);
        }
        engine = new ObjectManager(engineContext.conclude());
        if (replicaManager != null) {
            replicaManager.start(engine.log(), engine.epochs());
        }
        rpcPool = Executors.newFixedThreadPool(context.rpcThreads(),
                Thread.ofPlatform().daemon().name("ferrite-rpc-", 0).factory());
        startGrpc();
        int advertisedPort = context.advertisedPort() != 0 ? context.advertisedPort() : grpc.getPort();
        address = hostPort(context.advertisedHost(), advertisedPort);
        if (context.metricsPort() != ServerContext.METRICS_OFF) {
            metricsEndpoint = MetricsEndpoint.start(context.listenHost(), context.metricsPort(),
                    processMetrics.registry());
        }

        membership = Membership.connect(context.zkConnect(), context.cluster(),
                Duration.ofMillis(context.sessionTimeoutMs()), Duration.ofMillis(context.connectionTimeoutMs()), lease);
        membership.onLost(this::forgetAllTablets);
        gauges = ServerGauges.register(processMetrics.registry(), engine::stats, tablets::size, lease,
                membership::isConnected, System::nanoTime);
        io.ferrite.server.metrics.ReplicationMetrics.register(processMetrics.registry(), replicaManager, backupService);
        List<String> services = context.backup() ? List.of("master", "backup") : SERVICES;
        ServerId id = membership.register(context.stableName(address), address, services, context.failureDomain(),
                replicationChannel);
        if (replicaStore != null && !replicaStore.list().isEmpty()) {
            rpcPool.execute(this::dropReplicasMastersFreed);
        }
        LOG.info("server {} of cluster '{}' serving at {} ({}); metrics {}", id, context.cluster(), address,
                context, metricsEndpoint == null ? "off" : "at http://" + metricsEndpoint.address()
                        + MetricsEndpoint.PATH);
    }

    /** Reloads the replicas on disk (verifying them), then receives replication on a UDP port. */
    private void startBackup() throws IOException {
        replicaStore = new ReplicaStore(context.backupBufferDir(), context.backupDir(), context.backupBuffers());
        List<ReplicaInfo> found = replicaStore.load();
        long corrupt = found.stream().filter(r -> r.state() == ReplicaInfo.State.CORRUPT).count();
        if (!found.isEmpty()) {
            LOG.info("backup: reloaded {} replica(s) from {} and {} ({} corrupt)", found.size(), context.backupDir(),
                    context.backupBufferDir(), corrupt);
        }
        int port = AeronTransport.udpPort(context.listenHost(), context.replicationPort());
        replicationChannel = AeronTransport.udpChannel(context.advertisedHost(), port);
        backupService = new BackupService(aeron.aeron(), AeronTransport.udpChannel(context.listenHost(), port),
                replicaStore, this::selfId, this::masterIsLive);
    }

    /**
     * After a restart: asks each live master whose replicas were reloaded for the segments in
     * its log, and drops the replicas of segments it freed meanwhile (their frees never came).
     * Replicas of masters not UP are kept: crash recovery may need them.
     */
    private void dropReplicasMastersFreed() {
        java.util.Set<Long> masters = new java.util.TreeSet<>();
        replicaStore.list().forEach(r -> masters.add(r.masterId()));
        for (long masterId : masters) {
            Optional<io.ferrite.proto.v1.ServerInfo> master = membership.registry().server(ServerId.of(masterId));
            if (master.isEmpty() || master.get().getStatus() != io.ferrite.proto.v1.ServerStatus.UP) {
                continue;
            }
            io.grpc.ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
                    .forTarget(master.get().getAddress()).usePlaintext().build();
            try {
                var stats = ControlServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .serverStats(io.ferrite.proto.v1.ServerStatsRequest.getDefaultInstance());
                if (stats.getServerId() != masterId) {
                    continue; // another generation answers at that address now
                }
                int dropped = replicaStore.retainOnly(masterId, new java.util.HashSet<>(stats.getLogSegmentIdsList()));
                if (dropped > 0) {
                    LOG.info("backup: dropped {} replica(s) of master {} that it freed while this server was down",
                            dropped, ServerId.of(masterId));
                }
            } catch (RuntimeException e) {
                LOG.warn("backup: could not ask master {} which segments it holds (its replicas are kept): {}",
                        ServerId.of(masterId), e.toString());
            } finally {
                channel.shutdownNow();
            }
        }
    }

    private long selfId() {
        return lease.serverId().map(ServerId::asLong).orElse(0L);
    }

    /** Whether the cluster lists a master as up (backups refuse replication from anything else). */
    private boolean masterIsLive(long masterId) {
        Membership m = membership;
        return m != null && m.registry().server(ServerId.of(masterId))
                .map(s -> s.getStatus() == io.ferrite.proto.v1.ServerStatus.UP).orElse(false);
    }

    /** Live servers with a backup service, as replica targets. */
    private List<ReplicaManager.Backup> liveBackups() {
        Membership m = membership;
        if (m == null) {
            return List.of();
        }
        List<ReplicaManager.Backup> backups = new java.util.ArrayList<>();
        for (io.ferrite.proto.v1.ServerInfo s : m.registry().servers()) {
            if (s.getStatus() == io.ferrite.proto.v1.ServerStatus.UP && s.getServicesList().contains("backup")
                    && !s.getReplicationChannel().isEmpty()) {
                backups.add(new ReplicaManager.Backup(s.getServerId(), s.getReplicationChannel(), s.getFailureDomain()));
            }
        }
        return backups;
    }

    /** The backup's replica store, if this server runs the backup service (recovery reads, tests). */
    public Optional<ReplicaStore> replicaStore() {
        return Optional.ofNullable(replicaStore);
    }

    /** The backup service, if this server runs it. */
    public Optional<BackupService> backupService() {
        return Optional.ofNullable(backupService);
    }

    /** The master's replica manager, if it replicates its log. */
    public Optional<ReplicaManager> replicaManager() {
        return Optional.ofNullable(replicaManager);
    }

    private void startGrpc() throws IOException {
        DataServiceImpl data = new DataServiceImpl(engine, tablets, lease, opMetrics, errors,
                replicaManager == null ? null : replicaManager::whenDurable);
        ControlServiceImpl control = new ControlServiceImpl(engine, tablets, lease, this::stats, errors,
                Clock.systemUTC(), replicaStore);
        NettyServerBuilder builder = NettyServerBuilder
                .forAddress(new InetSocketAddress(context.listenHost(), context.listenPort()))
                .maxInboundMessageSize(ServerContext.MAX_INBOUND_MESSAGE_BYTES)
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .addService(data)
                .addService(control);
        if (context.dataExecutor() == ServerContext.DataExecutor.DIRECT) {
            builder.directExecutor().callExecutor(new SlowCallsOnPool(rpcPool));
        } else {
            builder.executor(rpcPool);
        }
        grpc = builder.build();
        try {
            grpc.start();
        } catch (IOException e) {
            throw new IOException(ServerContext.LISTEN_PORT + ": cannot listen on " + context.listenHost() + ":"
                    + context.listenPort() + " (" + e.getMessage() + ")", e);
        }
    }

    /** Runs Enumerate streams and control calls on the pool, everything else on the transport thread. */
    private static final class SlowCallsOnPool implements ServerCallExecutorSupplier {
        private final Executor pool;

        SlowCallsOnPool(Executor pool) {
            this.pool = pool;
        }

        @Override
        public <ReqT, RespT> Executor getExecutor(ServerCall<ReqT, RespT> call, Metadata metadata) {
            String method = call.getMethodDescriptor().getFullMethodName();
            if (method.equals(DataServiceGrpc.getEnumerateMethod().getFullMethodName())
                    || method.startsWith(ControlServiceGrpc.SERVICE_NAME + "/")) {
                return pool;
            }
            return null;
        }
    }

    /** After the lease was lost: the cluster considers this server crashed, so its tablets and data go. */
    private void forgetAllTablets() {
        long[] tables = tablets.clear();
        long objects = 0;
        for (long table : tables) {
            objects += engine.dropTable(table);
        }
        LOG.warn("lease lost: forgot the tablets of {} table(s) and dropped {} object(s)", tables.length, objects);
    }

    private EngineStats stats() {
        return gauges != null ? gauges.stats() : engine.stats();
    }

    private static String hostPort(String host, int port) {
        return (host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }

    // ---- accessors ----

    /** {@code host:port} other processes reach the data and control services at (as registered). */
    public String address() {
        return address;
    }

    /** The port the gRPC server listens on. */
    public int port() {
        return grpc.getPort();
    }

    /** This server's id while its lease holds. */
    public Optional<ServerId> serverId() {
        return lease.serverId();
    }

    public Lease lease() {
        return lease;
    }

    public TabletSet tablets() {
        return tablets;
    }

    public ObjectManager engine() {
        return engine;
    }

    public ServerContext context() {
        return context;
    }

    public PrometheusMeterRegistry meterRegistry() {
        return processMetrics.registry();
    }

    public OpMetrics opMetrics() {
        return opMetrics;
    }

    /** {@code host:port} of the Prometheus endpoint, if it is on. */
    public Optional<String> metricsAddress() {
        return Optional.ofNullable(metricsEndpoint).map(MetricsEndpoint::address);
    }

    /** The ZooKeeper client holding the lease (tests use it to expire the session). */
    public CuratorFramework zooKeeperClient() {
        return membership.client();
    }

    /** Stops serving and releases everything; see the class comment for the order. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        lease.close();
        if (metricsEndpoint != null) {
            metricsEndpoint.close();
        }
        if (grpc != null) {
            grpc.shutdown();
            try {
                if (!grpc.awaitTermination(context.shutdownGraceMs(), TimeUnit.MILLISECONDS)) {
                    grpc.shutdownNow();
                    grpc.awaitTermination(context.shutdownGraceMs(), TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                grpc.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        if (membership != null) {
            membership.close();
        }
        if (backupService != null) {
            backupService.close();
        }
        if (replicaManager != null) {
            replicaManager.close();
        }
        if (replicaStore != null) {
            replicaStore.close();
        }
        if (rpcPool != null) {
            rpcPool.shutdownNow();
            try {
                if (!rpcPool.awaitTermination(context.shutdownGraceMs(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("RPC threads still busy after {} ms; releasing the engine anyway",
                            context.shutdownGraceMs());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (engine != null) {
            engine.close();
        }
        if (aeron != null) {
            aeron.close();
        }
        processMetrics.close();
        LOG.info("server {} stopped", address == null ? "(not started)" : address);
    }
}
