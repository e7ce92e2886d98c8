package io.ferrite.server.replication;

import io.ferrite.backup.BackupService;
import io.ferrite.backup.GrpcMasterDirectory;
import io.ferrite.backup.ReplicaInfo;
import io.ferrite.backup.ReplicaStore;
import io.ferrite.coordinator.registry.ServerId;
import io.ferrite.master.EngineContext;
import io.ferrite.master.ObjectManager;
import io.ferrite.master.replication.ReplicaManager;
import io.ferrite.proto.ReplicationStreams;
import io.ferrite.proto.v1.ReplicationEndpoint;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.server.ServerContext;
import io.ferrite.server.lease.Membership;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server's part in replication, as its settings ask: the Aeron transport, the backup service
 * with its replica store (with {@code backup=on}), and the master's replica manager (with
 * {@code replicas > 0}).
 *
 * <p>Life cycle, driven by the server: {@link #start} before the engine exists (the manager is
 * the engine's replication hook); {@link #attach} once it does; {@link #joined} once the server
 * has a membership (placement and the backup's admission read the cluster's server list);
 * {@link #close} after the gRPC server stopped and before the engine's memory goes.
 *
 * <p>Channels: a backup receives on UDP ({@link ReplicationStreams#REQUESTS} on
 * {@code replication-port}) and, unless {@code replication-ipc=off}, on an IPC stream it claims
 * on its media driver. It advertises both and its driver's identity; a master whose driver is
 * the same one (e.g. every server of {@code ferrite local}, which share the supervisor's
 * driver) replicates to it over IPC, and names an IPC stream of its own for the answers.
 */
public final class ReplicationServices implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationServices.class);
    /** Most log bytes in one replication message (less if the term length allows less). */
    static final int CHUNK_BYTES = 1 << 20;
    /** Room for an append message's header and fixed fields. */
    private static final int MESSAGE_OVERHEAD_BYTES = 256;
    /** How long a backup may take to answer before the master resends, then replaces it. */
    public static final Duration ACK_TIMEOUT = Duration.ofMillis(500);

    private final ServerContext context;
    private final LongSupplier selfId;
    private volatile Membership membership;
    private AeronTransport aeron;
    private ReplicaStore store;
    private BackupService backup;
    private ReplicaManager manager;
    private ReplicationEndpoint endpoint;
    /** Asks masters about their replicas for the backup's reconciliation (blocking gRPC, off the agent). */
    private java.util.concurrent.ExecutorService reconciler;
    /** A channel per master address asked, closed with the services; touched by the reconciler only. */
    private final java.util.Map<String, ManagedChannel> masterChannels = new java.util.HashMap<>();

    private ReplicationServices(ServerContext context, LongSupplier selfId) {
        this.context = context;
        this.selfId = selfId;
    }

    /**
     * Starts what the settings ask for: the transport, then the backup service (reloading and
     * verifying the replicas on disk first), then the replica manager, which becomes
     * {@code engine}'s replication hook.
     *
     * @param selfId this server's id once registered, 0 before
     * @throws IOException if the replica directories cannot be used or no UDP port is free
     */
    public static ReplicationServices start(ServerContext context, LongSupplier selfId, EngineContext engine)
            throws IOException {
        ReplicationServices services = new ReplicationServices(context, selfId);
        try {
            services.startUp(engine);
        } catch (IOException | RuntimeException e) {
            services.close();
            throw e;
        }
        return services;
    }

    private void startUp(EngineContext engine) throws IOException {
        if (!context.needsAeron()) {
            return;
        }
        aeron = context.externalDriver() ? AeronTransport.connect(context.aeronDir(), context.transportOptions())
                : AeronTransport.launch(context.aeronDir(), context.transportOptions());
        if (context.backup()) {
            startBackup();
        }
        if (context.replicas() > 0) {
            int replyPort = AeronTransport.udpPort(context.listenHost(), 0);
            ReplicationStreams.Endpoint udpReply = new ReplicationStreams.Endpoint(
                    aeron.udpChannel(context.advertisedHost(), replyPort), ReplicationStreams.REPLIES);
            int replyStream = context.replicationIpc() ? ipcStream("answers") : 0;
            ReplicationStreams.Endpoint ipcReply = replyStream == 0 ? null
                    : new ReplicationStreams.Endpoint(aeron.ipcChannel(), replyStream);
            int chunk = Math.min(CHUNK_BYTES, aeron.options().maxMessageBytes() - MESSAGE_OVERHEAD_BYTES);
            manager = new ReplicaManager(context.replicas(), aeron.aeron(), selfId, this::liveBackups, udpReply,
                    ipcReply, chunk, ACK_TIMEOUT);
            manager.failureDomain(context.failureDomain());
            engine.replicationHook(manager);
        }
    }

    /** Reloads the replicas on disk (verifying them), then receives replication on UDP and IPC. */
    private void startBackup() throws IOException {
        store = new ReplicaStore(context.backupBufferDir(), context.backupDir(), context.backupBuffers());
        List<ReplicaInfo> found = store.load();
        long corrupt = found.stream().filter(r -> r.state() == ReplicaInfo.State.CORRUPT).count();
        if (!found.isEmpty()) {
            LOG.info("backup: reloaded {} replica(s) from {} and {} ({} corrupt)", found.size(), context.backupDir(),
                    context.backupBufferDir(), corrupt);
        }
        int port = AeronTransport.udpPort(context.listenHost(), context.replicationPort());
        List<ReplicationStreams.Endpoint> endpoints = new ArrayList<>();
        endpoints.add(new ReplicationStreams.Endpoint(aeron.udpChannel(context.listenHost(), port),
                ReplicationStreams.REQUESTS));
        ReplicationEndpoint.Builder advertised = ReplicationEndpoint.newBuilder()
                .setChannel(aeron.udpChannel(context.advertisedHost(), port));
        int stream = context.replicationIpc() ? ipcStream("replicas") : 0;
        if (stream != 0) {
            endpoints.add(new ReplicationStreams.Endpoint(aeron.ipcChannel(), stream));
            advertised.setIpcStream(stream).setDriver(aeron.driverId());
        }
        endpoint = advertised.build();
        reconciler = java.util.concurrent.Executors.newSingleThreadExecutor(
                Thread.ofPlatform().daemon().name("ferrite-backup-reconcile").factory());
        GrpcMasterDirectory masters = new GrpcMasterDirectory(this::upMasterAddress, this::masterChannel, reconciler);
        backup = new BackupService(aeron.aeron(), endpoints, store, selfId, this::masterIsLive,
                new BackupService.MasterDirectory() {
                    @Override
                    public java.util.concurrent.CompletableFuture<Optional<ReplicaStore.MasterReplicas>> ask(long m) {
                        return masters.ask(m);
                    }

                    @Override
                    public java.util.concurrent.CompletableFuture<Boolean> recovered(long m) {
                        return masterRecovered(m);
                    }
                },
                TimeUnit.MILLISECONDS.toNanos(context.backupReconcileIntervalMs()),
                new org.agrona.concurrent.SystemNanoClock())
                .start(Thread.ofPlatform().daemon().factory());
    }

    /**
     * Claims an IPC stream on the media driver, or returns 0 (UDP only, with a warning) if the
     * driver's directory does not let this process claim one (e.g. another user's driver).
     */
    private int ipcStream(String purpose) {
        try {
            return aeron.claimIpcStream();
        } catch (IOException e) {
            LOG.warn("cannot claim an IPC stream for {} in the media driver's directory ({}); using UDP only",
                    purpose, e.toString());
            return 0;
        }
    }

    /** Starts replicating {@code engine}'s log. */
    public void attach(ObjectManager engine) {
        if (manager != null) {
            manager.start(engine.log(), engine.epochs());
        }
    }

    /**
     * The server has a membership: placement, admission and the backup's reconciliation can
     * read the cluster.
     */
    public void joined(Membership joined) {
        this.membership = joined;
        if (manager != null) {
            // While the lease is not valid the cluster view is stale: replicas are not judged by it.
            manager.viewTrusted(() -> joined.lease().state() == io.ferrite.server.lease.Lease.State.VALID);
        }
    }

    /** What this server registers about its backup service, or null without one. */
    public ReplicationEndpoint endpoint() {
        return endpoint;
    }

    /**
     * For the backup's reconciliation ({@link GrpcMasterDirectory}): the address of a master the
     * cluster lists as UP, else empty (its replicas are kept for recovery).
     */
    private Optional<String> upMasterAddress(long masterId) {
        Membership m = membership;
        Optional<ServerInfo> master = m == null ? Optional.empty() : m.registry().server(ServerId.of(masterId));
        return master.filter(s -> s.getStatus() == ServerStatus.UP).map(ServerInfo::getAddress);
    }

    /** A channel to a master asked by reconciliation, kept until close; called on the reconciler thread only. */
    private ManagedChannel masterChannel(String address) {
        return masterChannels.computeIfAbsent(address, a -> NettyChannelBuilder.forTarget(a).usePlaintext().build());
    }

    /**
     * Whether a master's crash recovery is over: its record REMOVED (which the coordinator
     * writes in the same transaction that creates the recovery's record) and that recovery
     * record gone (deleted only when the recovery finished). Read from ZooKeeper, not a cache,
     * on the reconciler thread.
     */
    private java.util.concurrent.CompletableFuture<Boolean> masterRecovered(long masterId) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            Membership m = membership;
            if (m == null || m.registry().server(ServerId.of(masterId))
                    .map(s -> s.getStatus() != ServerStatus.REMOVED).orElse(true)) {
                return false;
            }
            try {
                return m.client().checkExists().forPath(m.paths().recovery(masterId)) == null;
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, reconciler);
    }

    /** Whether the cluster lists a master as UP (a backup refuses the others and keeps their replicas). */
    public boolean masterIsLive(long masterId) {
        Membership m = membership;
        return m != null && m.registry().server(ServerId.of(masterId))
                .map(s -> s.getStatus() == ServerStatus.UP).orElse(false);
    }

    /** Live servers with a backup service, as replica targets, each by IPC if it shares this driver. */
    private List<ReplicaManager.Backup> liveBackups() {
        Membership m = membership;
        if (m == null) {
            return List.of();
        }
        String driver = aeron.driverId();
        List<ReplicaManager.Backup> backups = new ArrayList<>();
        for (ServerInfo s : m.registry().servers()) {
            ReplicationEndpoint e = s.getReplication();
            if (s.getStatus() != ServerStatus.UP || !s.getServicesList().contains("backup")
                    || e.getChannel().isEmpty()) {
                continue;
            }
            boolean ipc = context.replicationIpc() && e.getIpcStream() != 0 && e.getDriver().equals(driver);
            ReplicationStreams.Endpoint target = ipc ? new ReplicationStreams.Endpoint(aeron.ipcChannel(), e.getIpcStream())
                    : new ReplicationStreams.Endpoint(e.getChannel(), ReplicationStreams.REQUESTS);
            backups.add(new ReplicaManager.Backup(s.getServerId(), target, s.getFailureDomain()));
        }
        return backups;
    }

    public Optional<ReplicaStore> store() {
        return Optional.ofNullable(store);
    }

    public Optional<BackupService> backup() {
        return Optional.ofNullable(backup);
    }

    public Optional<ReplicaManager> manager() {
        return Optional.ofNullable(manager);
    }

    /** Stops receiving and sending, then closes the replica store and the transport. */
    @Override
    public void close() {
        if (backup != null) {
            backup.close();
        }
        if (reconciler != null) {
            reconciler.shutdownNow();
            try {
                reconciler.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            masterChannels.values().forEach(ManagedChannel::shutdownNow);
        }
        if (manager != null) {
            manager.close();
        }
        if (store != null) {
            store.close();
        }
        if (aeron != null) {
            aeron.close();
        }
    }
}
