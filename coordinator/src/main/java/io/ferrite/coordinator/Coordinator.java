package io.ferrite.coordinator;

import io.ferrite.coordinator.membership.DetectionTimeouts;
import io.ferrite.coordinator.membership.FailureDetector;
import io.ferrite.coordinator.recovery.GrpcRecoveryRpc;
import io.ferrite.coordinator.recovery.RecoveryManager;
import io.ferrite.coordinator.recovery.RecoverySettings;
import io.ferrite.coordinator.recovery.ZkRecoveryStore;
import io.ferrite.coordinator.rpc.CoordinatorServiceImpl;
import io.ferrite.coordinator.rpc.Forwarding;
import io.ferrite.coordinator.rpc.LeaderEpoch;
import io.ferrite.coordinator.rpc.LeaderForwarder;
import io.ferrite.coordinator.rpc.Leadership;
import io.ferrite.coordinator.rpc.MasterClients;
import io.ferrite.coordinator.table.TableManager;
import io.ferrite.coordinator.table.TableStore;
import io.ferrite.coordinator.zk.ClusterLayout;
import io.ferrite.coordinator.zk.ClusterPaths;
import io.ferrite.coordinator.zk.ClusterStoreException;
import io.ferrite.coordinator.zk.ClusterView;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.SystemNanoClock;
import org.apache.zookeeper.CreateMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A coordinator: serves the coordinator service over gRPC and takes part in leader election.
 * It holds no state of its own; everything is in ZooKeeper under {@code /ferrite/<cluster>}, so
 * any number may run and killing one, the leader included, loses nothing.
 *
 * <p>On start it connects to ZooKeeper, creates the cluster's folders if needed, fills its
 * cache of the cluster, starts the gRPC server, announces itself under {@code coordinators/}
 * and joins the Curator {@link LeaderLatch}. On election it first writes its term's epoch
 * ({@link LeaderEpoch}: every control call that moves data carries it), then runs the
 * {@link FailureDetector} (servers' heartbeats, probes, CRASHED) and performs table mutations;
 * on election, and every {@code retry-interval-ms}, it finishes creates and drops left
 * unfinished. Followers answer reads from their cache, forward mutations to the leader and
 * answer heartbeats NOT_LEADER with the leader's address.
 */
public final class Coordinator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Coordinator.class);
    private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(2);
    /** The failure detector's duty cycle runs every few milliseconds (its timeouts are 100s of ms). */
    private static final long DETECTOR_IDLE_MS = 5;

    private final CoordinatorContext context;
    private final ClusterPaths paths;
    private final LatchLeadership leadership = new LatchLeadership();
    private CuratorFramework client;
    private ClusterView view;
    private MasterClients masterClients;
    private LeaderForwarder forwarder;
    private TableManager tableManager;
    private io.ferrite.coordinator.snapshot.SnapshotManager snapshots;
    private FailureDetector failureDetector;
    private GrpcRecoveryRpc recoveryRpc;
    private RecoveryManager recoveries;
    private AgentRunner detectorRunner;
    /** The failure detector's ZooKeeper reads and declarations: never behind table work. */
    private ExecutorService detectorExecutor;
    private ExecutorService rpcExecutor;
    private ScheduledExecutorService leaderExecutor;
    /** Autosave rounds: on their own thread, so a slow master never delays the leader's other duties. */
    private ScheduledExecutorService autosaveExecutor;
    private ScheduledFuture<?> periodic;
    private Server server;
    /**
     * The coordinator service's own event loops: heartbeats must be answered on time even when
     * other gRPC servers of the process (tests run a whole cluster in one JVM) are saturated.
     */
    private EventLoopGroup serverBoss;
    private EventLoopGroup serverWorkers;
    private PersistentNode announcement;
    private LeaderLatch latch;
    private volatile boolean closed;

    private Coordinator(CoordinatorContext context) {
        this.context = context;
        this.paths = new ClusterPaths(context.cluster());
    }

    /**
     * Starts a coordinator.
     *
     * @param context a concluded context
     * @throws IOException           if the listen address cannot be bound
     * @throws ClusterStoreException if ZooKeeper cannot be reached in time
     */
    public static Coordinator start(CoordinatorContext context) throws IOException, InterruptedException {
        context.checkConcluded();
        Coordinator coordinator = new Coordinator(context);
        try {
            coordinator.startUp();
        } catch (IOException | InterruptedException | RuntimeException e) {
            coordinator.close();
            throw e;
        }
        return coordinator;
    }

    private void startUp() throws IOException, InterruptedException {
        Duration connectTimeout = Duration.ofMillis(context.connectionTimeoutMs());
        client = CuratorFrameworkFactory.builder()
                .connectString(context.zkConnect())
                .sessionTimeoutMs(context.sessionTimeoutMs())
                .connectionTimeoutMs(context.connectionTimeoutMs())
                .retryPolicy(new ExponentialBackoffRetry(100, 10, 2_000))
                .build();
        client.start();
        if (!client.blockUntilConnected(context.connectionTimeoutMs(), TimeUnit.MILLISECONDS)) {
            throw new ClusterStoreException("zookeeper: " + context.zkConnect() + " not reachable within "
                    + connectTimeout);
        }
        ClusterLayout.ensure(client, paths);
        view = new ClusterView(client, paths);
        view.start(connectTimeout);

        leaderExecutor = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon()
                .name("ferrite-coordinator-leader").factory());
        masterClients = new MasterClients(Duration.ofMillis(context.masterRpcTimeoutMs()), leadership::epoch);
        TableStore store = new TableStore(client, paths);
        tableManager = new TableManager(store, view, masterClients, leadership::isLeader);
        detectorExecutor = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon()
                .name("ferrite-failure-detector-zk").factory());
        failureDetector = new FailureDetector(client, paths, view, detectorExecutor, leadership, masterClients,
                context.detectionTimeouts(), new SystemNanoClock(), context.sessionTimeoutMs());
        view.addListener(failureDetector);
        recoveryRpc = new GrpcRecoveryRpc(Duration.ofMillis(context.masterRpcTimeoutMs()), Duration.ofMinutes(10));
        recoveries = new RecoveryManager(new ZkRecoveryStore(client, paths), recoveryRpc, RecoverySettings.defaults(),
                leadership::epoch, leadership::isLeader);
        view.addListener(new ClusterView.Listener() {
            @Override
            public void serverChanged(io.ferrite.proto.v1.ServerInfo server) {
                if (server.getStatus() == io.ferrite.proto.v1.ServerStatus.CRASHED && leadership.isLeader()) {
                    leaderExecutor.execute(() -> scanRecoveries());
                }
            }
        });
        detectorRunner = new AgentRunner(new SleepingMillisIdleStrategy(DETECTOR_IDLE_MS),
                e -> LOG.warn("failure detector: duty cycle failed", e), null, failureDetector);
        AgentRunner.startOnThread(detectorRunner, Thread.ofPlatform().daemon().name("ferrite-failure-detector")
                .factory());
        forwarder = new LeaderForwarder(leadership, Duration.ofMillis(context.forwardTimeoutMs()));

        CoordinatorServiceImpl service = new CoordinatorServiceImpl(context.cluster(), view, store, tableManager,
                leadership, forwarder, Duration.ofMillis(context.cacheWaitMs()), failureDetector,
                snapshots = new io.ferrite.coordinator.snapshot.SnapshotManager(client, paths, view, masterClients,
                        System::currentTimeMillis));
        rpcExecutor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("ferrite-coordinator-rpc-", 0).factory());
        serverBoss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("ferrite-coordinator-accept", true),
                NioIoHandler.newFactory());
        serverWorkers = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("ferrite-coordinator-io", true),
                NioIoHandler.newFactory());
        server = NettyServerBuilder.forAddress(new InetSocketAddress(context.listenHost(), context.listenPort()))
                .bossEventLoopGroup(serverBoss).workerEventLoopGroup(serverWorkers)
                .channelType(NioServerSocketChannel.class)
                .addService(ServerInterceptors.intercept(service, new Forwarding()))
                .executor(rpcExecutor)
                .build();
        try {
            server.start();
        } catch (IOException e) {
            throw new IOException("listen-port: cannot listen on " + context.listenHost() + ":"
                    + context.listenPort() + " (" + e.getMessage() + ")", e);
        }
        String address = hostPort(context.advertisedHost(), server.getPort());
        leadership.self = address;

        announcement = new PersistentNode(client, CreateMode.EPHEMERAL, false, paths.coordinator(address),
                address.getBytes(StandardCharsets.UTF_8));
        announcement.start();
        if (!announcement.waitForInitialCreate(context.connectionTimeoutMs(), TimeUnit.MILLISECONDS)) {
            throw new ClusterStoreException("could not announce " + address + " under " + paths.coordinators());
        }

        latch = new LeaderLatch(client, paths.leaderLatch(), address);
        latch.addListener(new LeaderLatchListener() {
            @Override
            public void isLeader() {
                becameLeader();
            }

            @Override
            public void notLeader() {
                lostLeadership();
            }
        }, leaderExecutor);
        leadership.latch = latch;
        try {
            latch.start();
        } catch (Exception e) {
            throw new ClusterStoreException("could not join the leader election: " + e, e);
        }
        periodic = leaderExecutor.scheduleWithFixedDelay(this::periodicDuties, context.retryIntervalMs(),
                context.retryIntervalMs(), TimeUnit.MILLISECONDS);
        autosaveExecutor = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon()
                .name("ferrite-coordinator-autosave").factory());
        autosaveExecutor.scheduleWithFixedDelay(this::runAutosave, context.retryIntervalMs(), context.retryIntervalMs(),
                TimeUnit.MILLISECONDS);
        LOG.info("coordinator of cluster '{}' serving at {} (ZooKeeper {})", context.cluster(), address,
                context.zkConnect());
    }

    private static String hostPort(String host, int port) {
        return (host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }

    /**
     * On the leader executor: writes the term's epoch (retried while the latch still says leader),
     * then starts the failure detector and finishes pending work. Until the epoch is written
     * {@link Leadership#isLeader()} is false, so nothing is mutated or acknowledged without it.
     */
    private void becameLeader() {
        while (!closed && latchHasLeadership()) {
            try {
                long epoch = LeaderEpoch.bump(client, paths);
                synchronized (leadership) {
                    leadership.epoch = epoch;
                    leadership.notifyAll();
                }
                LOG.info("coordinator {} is now the leader of cluster '{}' (epoch {})", leadership.self,
                        context.cluster(), epoch);
                break;
            } catch (ClusterStoreException e) {
                LOG.warn("could not write the leader epoch yet: {}", e.getMessage());
                try {
                    TimeUnit.MILLISECONDS.sleep(EPOCH_RETRY_MS); // I/O retry pacing on the leader thread
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        if (leadership.epoch == 0) {
            return;
        }
        failureDetector.start();
        resumePending();
        clearUnfinishedSnapshots();
        scanRecoveries();
    }

    private void clearUnfinishedSnapshots() {
        try {
            snapshots.clearUnfinished();
        } catch (RuntimeException e) {
            LOG.warn("could not clear snapshots left unfinished by an earlier leader: {}", e.toString());
        }
    }

    private void scanRecoveries() {
        try {
            recoveries.scan();
        } catch (RuntimeException e) {
            LOG.warn("could not look for crashed servers to recover yet: {}", e.toString());
        }
    }

    private static final long EPOCH_RETRY_MS = 200;

    private boolean latchHasLeadership() {
        LeaderLatch current = latch;
        return current != null && current.hasLeadership();
    }

    private void lostLeadership() {
        LOG.info("coordinator {} is no longer the leader (epoch {} ended)", leadership.self, leadership.epoch);
        leadership.epoch = 0;
        failureDetector.stop();
    }

    private void periodicDuties() {
        if (!closed && leadership.isLeader()) {
            failureDetector.scan();
            resumePending();
            scanRecoveries();
        }
    }

    private void runAutosave() {
        if (closed || !leadership.isLeader()) {
            return;
        }
        try {
            snapshots.runAutosave();
        } catch (RuntimeException e) {
            LOG.warn("autosave round failed; the next round tries again: {}", e.toString());
        }
    }

    private void resumePending() {
        try {
            tableManager.resumePending();
        } catch (RuntimeException e) {
            LOG.warn("could not finish pending table work yet: {}", e.toString());
        }
    }

    /** The recoveries this coordinator runs as leader. */
    public RecoveryManager recoveries() {
        return recoveries;
    }

    /** This coordinator's {@code host:port}, as announced to the cluster. */
    public String address() {
        return leadership.self;
    }

    /** The port the coordinator service listens on. */
    public int port() {
        return server.getPort();
    }

    public String cluster() {
        return context.cluster();
    }

    public boolean isLeader() {
        return leadership.isLeader();
    }

    /** The current leader's {@code host:port}, if known. */
    public Optional<String> leaderAddress() {
        return leadership.leaderAddress();
    }

    /** This coordinator's leader epoch, 0 when it is not leader. */
    public long epoch() {
        return leadership.epoch();
    }

    /** The leader's failure detector (tests). */
    public FailureDetector failureDetector() {
        return failureDetector;
    }

    /**
     * Waits until this coordinator is leader.
     *
     * @return whether it became leader within {@code timeout}
     */
    public boolean awaitLeadership(Duration timeout) throws InterruptedException {
        long deadlineNs = System.nanoTime() + timeout.toNanos();
        if (!latch.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            return false;
        }
        synchronized (leadership) {
            while (!leadership.isLeader()) {
                long leftNs = deadlineNs - System.nanoTime();
                if (leftNs <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(leadership, leftNs);
            }
        }
        return true;
    }

    /**
     * Stops serving, leaves the election (another coordinator takes over at once) and closes
     * the ZooKeeper session.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (server != null) {
            server.shutdown();
            try {
                if (!server.awaitTermination(SHUTDOWN_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                    server.shutdownNow();
                }
            } catch (InterruptedException e) {
                server.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        if (serverWorkers != null) {
            serverWorkers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            serverBoss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        if (latch != null) {
            try {
                latch.close();
            } catch (IOException | IllegalStateException e) {
                LOG.warn("leaving the leader election: {}", e.toString());
            }
        }
        if (failureDetector != null) {
            failureDetector.stop();
        }
        if (recoveries != null) {
            recoveries.close();
        }
        if (recoveryRpc != null) {
            recoveryRpc.close();
        }
        if (detectorRunner != null) {
            detectorRunner.close();
        }
        if (detectorExecutor != null) {
            detectorExecutor.shutdownNow();
        }
        if (periodic != null) {
            periodic.cancel(false);
        }
        if (leaderExecutor != null) {
            leaderExecutor.shutdownNow();
        }
        if (autosaveExecutor != null) {
            autosaveExecutor.shutdownNow();
        }
        if (announcement != null) {
            try {
                announcement.close();
            } catch (IOException e) {
                LOG.warn("removing the coordinator's announcement: {}", e.toString());
            }
        }
        if (forwarder != null) {
            forwarder.close();
        }
        if (masterClients != null) {
            masterClients.close();
        }
        if (view != null) {
            view.close();
        }
        if (client != null) {
            client.close();
        }
        if (rpcExecutor != null) {
            rpcExecutor.shutdownNow();
        }
    }

    /** Leadership as the Curator latch sees it. */
    private static final class LatchLeadership implements Leadership {
        volatile LeaderLatch latch;
        volatile String self = "";
        /** The epoch of the current term, written on the leader executor; 0 when not leader. */
        volatile long epoch;

        @Override
        public boolean isLeader() {
            LeaderLatch current = latch;
            return epoch != 0 && current != null && current.hasLeadership();
        }

        @Override
        public long epoch() {
            LeaderLatch current = latch;
            return current != null && current.hasLeadership() ? epoch : 0;
        }

        @Override
        public Optional<String> leaderAddress() {
            LeaderLatch current = latch;
            if (current == null) {
                return Optional.empty();
            }
            try {
                Participant leader = current.getLeader();
                return leader.isLeader() && !leader.getId().isEmpty() ? Optional.of(leader.getId()) : Optional.empty();
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                LOG.debug("could not read the leader: {}", e.toString());
                return Optional.empty();
            }
        }

        @Override
        public String selfAddress() {
            return self;
        }
    }
}
