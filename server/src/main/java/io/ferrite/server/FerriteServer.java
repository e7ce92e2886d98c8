package io.ferrite.server;

import io.ferrite.coordinator.registry.OwnedTablets;
import io.ferrite.coordinator.registry.ServerId;
import io.ferrite.coordinator.table.HashRange;
import io.ferrite.backup.BackupReplicaReads;
import io.ferrite.backup.BackupService;
import io.ferrite.backup.ReplicaStore;
import io.ferrite.master.EngineContext;
import io.ferrite.master.EngineStats;
import io.ferrite.master.replication.ReplicaManager;
import io.ferrite.server.replication.ReplicationServices;
import io.ferrite.master.ObjectManager;
import io.ferrite.master.data.DataServiceImpl;
import io.ferrite.master.tablet.TabletSet;
import io.ferrite.proto.v1.ControlServiceGrpc;
import io.ferrite.proto.v1.DataServiceGrpc;
import io.ferrite.server.control.ControlServiceImpl;
import io.ferrite.server.control.EpochFence;
import io.ferrite.server.lease.Lease;
import io.ferrite.server.lease.Membership;
import io.ferrite.server.metrics.ErrorReporter;
import io.ferrite.server.metrics.MetricsEndpoint;
import io.ferrite.server.metrics.OpMetrics;
import io.ferrite.server.metrics.ProcessMetrics;
import io.ferrite.server.metrics.ServerGauges;
import io.ferrite.backup.BackupRecoveryServiceImpl;
import io.ferrite.master.recovery.MasterRecoveryServiceImpl;
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
 * the Prometheus endpoint, and its part in replication ({@link ReplicationServices}: the backup
 * service and the master's replica manager, as configured).
 *
 * <p>Start-up: replication (a backup reloads its replicas), engine, gRPC server (so the port is
 * known), metrics endpoint, ZooKeeper session and registration under the stable name as
 * services {@code ["master"]} or {@code ["master", "backup"]}, then heartbeats to the leader
 * coordinator (start-up waits up to {@code connection-timeout-ms} for the first acknowledgement).
 * Until registered and acknowledged the server owns no tablets and its lease is not valid, so it
 * serves no data. Data calls run on
 * the transport threads ({@code data-executor=direct}, the default) or a bounded pool;
 * Enumerate streams and control calls always run on the pool, as they may take long.
 *
 * <p>Stop ({@link #close()}): the lease closes (data calls are refused at once), the gRPC server
 * drains for {@code shutdown-grace-ms} and is then cut, the liveness node and session go (the
 * coordinator declares the server CRASHED; with replicas > 0 its backups hold its log), and the
 * engine's memory is released only after no call can still run.
 */
public final class FerriteServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FerriteServer.class);
    /** The services a server registers with {@code backup=off}. */
    public static final List<String> SERVICES = List.of("master");

    private final ServerContext context;
    private final TabletSet tablets = new TabletSet();
    private final java.util.Map<String, io.grpc.ManagedChannel> recoveryChannels =
            new java.util.concurrent.ConcurrentHashMap<>();
    private MasterRecoveryServiceImpl recovery;
    private static final int RECOVERY_READ_THREADS = 4;
    private java.util.concurrent.ExecutorService recoveryReadPool;
    /** Consulted by the services from the start: STARTING (serve nothing) until registered. */
    private final Lease lease = new Lease();
    /** The highest coordinator epoch seen: control calls from lower ones are refused. */
    private final EpochFence epochFence = new EpochFence();
    private final ProcessMetrics processMetrics;
    private final ErrorReporter errors;
    private final OpMetrics opMetrics;
    private ObjectManager engine;
    private ReplicationServices replication;
    private ExecutorService rpcPool;
    private Server grpc;
    private Membership membership;
    private ServerGauges gauges;
    private MetricsEndpoint metricsEndpoint;
    private String address;
    private volatile boolean closed;
    private final java.util.concurrent.CompletableFuture<Void> deposed = new java.util.concurrent.CompletableFuture<>();

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
        // Ownership and the lease are checked under the engine's append lock (I10).
        EngineContext engineContext = context.engineContext(tablets.whileServing(lease::isValid));
        replication = ReplicationServices.start(context, this::selfId, engineContext);
        engine = new ObjectManager(engineContext.conclude());
        replication.attach(engine);
        rpcPool = Executors.newFixedThreadPool(context.rpcThreads(),
                Thread.ofPlatform().daemon().name("ferrite-rpc-", 0).factory());
        // Recovery reads of replicas (disk reads, filtering) on threads of their own, so that a
        // recovery never holds up this server's data or control calls.
        recoveryReadPool = Executors.newFixedThreadPool(RECOVERY_READ_THREADS,
                Thread.ofPlatform().daemon().name("ferrite-recovery-read-", 0).factory());
        startGrpc();
        int advertisedPort = context.advertisedPort() != 0 ? context.advertisedPort() : grpc.getPort();
        address = hostPort(context.advertisedHost(), advertisedPort);
        if (context.metricsPort() != ServerContext.METRICS_OFF) {
            metricsEndpoint = MetricsEndpoint.start(context.listenHost(), context.metricsPort(),
                    processMetrics.registry());
        }

        membership = Membership.connect(context.zkConnect(), context.cluster(),
                Duration.ofMillis(context.sessionTimeoutMs()), Duration.ofMillis(context.connectionTimeoutMs()), lease);
        membership.onRejoined(this::reconcileTablets);
        membership.onDeposed(this::forgetAllTablets);
        replication.joined(membership);
        gauges = ServerGauges.register(processMetrics.registry(), engine::stats, tablets::size, lease,
                membership::isConnected, System::nanoTime);
        io.ferrite.server.metrics.SnapshotGauges.register(processMetrics.registry(), engine::snapshotStats);
        io.ferrite.server.metrics.ReplicationMetrics.register(processMetrics.registry(),
                replication.manager().orElse(null), replication.backup().orElse(null));
        List<String> services = context.backup() ? List.of("master", "backup") : SERVICES;
        ServerId id = membership.register(context.stableName(address), address, services, context.failureDomain(),
                replication.endpoint());
        epochFence.observe(membership.coordinatorEpoch());
        membership.startHeartbeats(epochFence, context.heartbeatIntervalMs(), context.leaseMarginMs());
        if (!membership.awaitFirstHeartbeat(context.connectionTimeoutMs())) {
            LOG.warn("server {}: no leader coordinator acknowledged a heartbeat within {} ms; serving once one does",
                    id, context.connectionTimeoutMs());
        }
        LOG.info("server {} of cluster '{}' serving at {} ({}); metrics {}", id, context.cluster(), address,
                context, metricsEndpoint == null ? "off" : "at http://" + metricsEndpoint.address()
                        + MetricsEndpoint.PATH);
    }

    private long selfId() {
        return lease.serverId().map(ServerId::asLong).orElse(0L);
    }

    /** The backup's replica store, if this server runs the backup service (recovery reads, tests). */
    public Optional<ReplicaStore> replicaStore() {
        return replication.store();
    }

    /** The backup service, if this server runs it. */
    public Optional<BackupService> backupService() {
        return replication.backup();
    }

    /** The master's replica manager, if it replicates its log. */
    public Optional<ReplicaManager> replicaManager() {
        return replication.manager();
    }

    private void startGrpc() throws IOException {
        DataServiceImpl data = new DataServiceImpl(engine, tablets, lease, opMetrics, errors,
                replication.manager().map(FerriteServer::durability).orElse(null));
        opMetrics.durabilityWaiters(data.durabilityGate());
        ControlServiceImpl control = new ControlServiceImpl(engine, tablets, lease, epochFence, this::stats, errors,
                Clock.systemUTC(), new BackupReplicaReads(replication.store().orElse(null)), data.durabilityGate());
        NettyServerBuilder builder = NettyServerBuilder
                .forAddress(new InetSocketAddress(context.listenHost(), context.listenPort()))
                .maxInboundMessageSize(ServerContext.MAX_INBOUND_MESSAGE_BYTES)
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .addService(data)
                .addService(control)
                .addService(recovery = new MasterRecoveryServiceImpl(engine, new RecoveredRanges(tablets),
                        this::selfId, lease::isValid, epoch -> epochFence.check(epoch) == null, this::recoveryChannel));
        replication.store().ifPresent(store -> builder.addService(new BackupRecoveryServiceImpl(store,
                replication::masterIsLive, epoch -> epochFence.check(epoch) == null,
                master -> replication.backup().ifPresent(b -> b.fence(master)))));
        if (context.dataExecutor() == ServerContext.DataExecutor.DIRECT) {
            builder.directExecutor().callExecutor(new SlowCallsOnPool(rpcPool, recoveryReadPool));
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

    /** A channel to another server, for recovery reads from its backup (kept until close). */
    private io.grpc.Channel recoveryChannel(String address) {
        return recoveryChannels.computeIfAbsent(address, a -> io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
                .forTarget(a).usePlaintext().maxInboundMessageSize(ServerContext.MAX_INBOUND_MESSAGE_BYTES).build());
    }

    /** Recovered ranges join the tablets this server serves. */
    private record RecoveredRanges(TabletSet tablets) implements MasterRecoveryServiceImpl.RangeOwner {
        @Override
        public void take(long tableId, long startHash, long endHash) {
            if (tablets.add(tableId, startHash, endHash)) {
                LOG.info("now serving recovered {}", new TabletSet.Range(tableId, startHash, endHash));
            }
        }

        @Override
        public boolean owns(long tableId, long startHash, long endHash) {
            return tablets.rangesOf(tableId).stream().anyMatch(r -> Long.compareUnsigned(r.startHash(), startHash) <= 0
                    && Long.compareUnsigned(r.endHash(), endHash) >= 0);
        }
    }

    private static io.ferrite.master.data.Durability durability(ReplicaManager manager) {
        return new io.ferrite.master.data.Durability() {
            @Override
            public java.util.concurrent.CompletableFuture<Void> whenDurable(long segmentId, int length) {
                return manager.whenDurable(segmentId, length);
            }

            @Override
            public boolean isDurable(long segmentId, int length) {
                return manager.isDurable(segmentId, length);
            }
        };
    }

    /** Runs Enumerate streams and control calls on the pool, everything else on the transport thread. */
    private static final class SlowCallsOnPool implements ServerCallExecutorSupplier {
        private final Executor pool;
        private final Executor recoveryReads;

        SlowCallsOnPool(Executor pool, Executor recoveryReads) {
            this.pool = pool;
            this.recoveryReads = recoveryReads;
        }

        @Override
        public <ReqT, RespT> Executor getExecutor(ServerCall<ReqT, RespT> call, Metadata metadata) {
            String method = call.getMethodDescriptor().getFullMethodName();
            if (method.equals(DataServiceGrpc.getEnumerateMethod().getFullMethodName())
                    || method.startsWith(ControlServiceGrpc.SERVICE_NAME + "/")
                    || method.startsWith(io.ferrite.proto.v1.MasterRecoveryServiceGrpc.SERVICE_NAME + "/")) {
                return pool;
            }
            if (method.startsWith(io.ferrite.proto.v1.BackupRecoveryServiceGrpc.SERVICE_NAME + "/")) {
                return recoveryReads;
            }
            return null;
        }
    }

    /**
     * After a rejoin under the same id, before serving again (issue 9, I5): keeps every tablet
     * ZooKeeper still names this server the owner of (state NORMAL) and drops data only where the
     * cluster's decision is visible: a table gone from ZooKeeper (dropped while this server was
     * out) is dropped here, a range now owned by someone else is no longer served. Where
     * malformed metadata leaves it open (I6), the table is kept as it is.
     */
    private void reconcileTablets(OwnedTablets owned) {
        long dropped = 0;
        int droppedTables = 0;
        for (long table : tablets.tableIds()) {
            switch (owned.verdict(table)) {
                case UNSURE -> LOG.warn("rejoin: the metadata of table {} is partly unreadable; keeping its tablets"
                        + " as they are", table);
                case DROP -> {
                    tablets.removeTable(table);
                    dropped += engine.dropTable(table);
                    droppedTables++;
                    LOG.info("rejoin: table {} was dropped while this server was out; dropped its data", table);
                }
                case KEEP_OWNED -> {
                    List<TabletSet.Range> allowed = new java.util.ArrayList<>();
                    for (HashRange r : owned.ranges(table)) {
                        allowed.add(new TabletSet.Range(table, r.start(), r.end()));
                    }
                    if (tablets.retainWithin(table, allowed)) {
                        if (!tablets.ownsAny(table)) {
                            dropped += engine.dropTable(table);
                            droppedTables++;
                            LOG.warn("rejoin: no tablet of table {} is this server's any more; dropped its data", table);
                        } else {
                            // Not reachable before migration and recovery exist: the objects of the
                            // lost ranges stay in memory (unserved) until the table is dropped.
                            LOG.warn("rejoin: some ranges of table {} are no longer this server's; serving {}", table,
                                    tablets.rangesOf(table));
                        }
                    }
                }
            }
        }
        LOG.info("rejoin: serving {} tablet range(s); dropped {} table(s), {} object(s)", tablets.size(),
                droppedTables, dropped);
    }

    /** The cluster gave this server's tablets away while it was out: its copies of them go. */
    private void forgetAllTablets() {
        long[] tables = tablets.clear();
        long objects = 0;
        for (long table : tables) {
            objects += engine.dropTable(table);
        }
        LOG.warn("deposed: forgot the tablets of {} table(s) and dropped {} object(s)", tables.length, objects);
        deposed.complete(null);
    }

    /** Completes if the cluster deposed this server (it will never serve again; the process should stop). */
    public java.util.concurrent.CompletableFuture<Void> deposed() {
        return deposed;
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

    /** The highest coordinator epoch this server has seen (control calls from lower ones are refused). */
    public EpochFence epochFence() {
        return epochFence;
    }

    /** This server's membership (tests: heartbeats, deposition). */
    public Membership membership() {
        return membership;
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

    /** The server's view of the cluster's membership (tests inspect what it skipped). */
    public io.ferrite.coordinator.registry.ServerRegistry zooKeeperRegistry() {
        return membership.registry();
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
        if (recovery != null) {
            recovery.close();
        }
        if (recoveryReadPool != null) {
            recoveryReadPool.shutdownNow();
        }
        recoveryChannels.values().forEach(io.grpc.ManagedChannel::shutdownNow);
        if (membership != null) {
            membership.close();
        }
        if (replication != null) {
            replication.close(); // before the engine: the manager reads the log's memory
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
        processMetrics.close();
        LOG.info("server {} stopped", address == null ? "(not started)" : address);
    }
}
