package io.ferrite.client.fake;

import io.ferrite.client.ClientOptions;
import io.ferrite.proto.v1.TabletState;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * An in-process cluster of fakes: coordinators serving a tablet map over fake masters that
 * keep objects in hash maps. All state is guarded by this object's monitor, so a tablet move
 * (data and ownership) is atomic with respect to every fake operation.
 */
public final class FakeCluster implements AutoCloseable {
    private final String prefix = InProcessServerBuilder.generateName();
    private final ExecutorService serverExecutor = Executors.newFixedThreadPool(4);
    private final List<Server> servers = new ArrayList<>();
    private final List<FakeMaster> masters = new ArrayList<>();
    private final List<FakeCoordinator> coordinators = new ArrayList<>();
    private final Map<String, FakeTable> tables = new LinkedHashMap<>();
    private final boolean netty;
    private long nextTableId = 1;

    /**
     * Starts {@code masterCount} masters and {@code coordinatorCount} coordinators in process;
     * the first coordinators are followers answering NOT_LEADER for mutations, the last is the
     * leader.
     */
    public FakeCluster(int masterCount, int coordinatorCount) {
        this(masterCount, coordinatorCount, false);
    }

    public FakeCluster(int masterCount) {
        this(masterCount, 1, false);
    }

    /**
     * As above; with {@code netty}, the servers listen on loopback TCP ports and the
     * addresses are real host:port pairs.
     */
    public FakeCluster(int masterCount, int coordinatorCount, boolean netty) {
        this.netty = netty;
        for (int i = 0; i < masterCount; i++) {
            FakeMaster m = new FakeMaster(this, prefix + "-master-" + i, ((long) (i + 1) << 32) | 1);
            masters.add(m);
            m.setAddress(start(m.address(), m));
        }
        for (int i = 0; i < coordinatorCount; i++) {
            FakeCoordinator c = new FakeCoordinator(this, prefix + "-coord-" + i, null);
            coordinators.add(c);
            c.setAddress(start(c.address(), c));
        }
        if (coordinatorCount > 0) {
            String leader = coordinators.getLast().address();
            for (FakeCoordinator c : coordinators) {
                c.setLeader(leader);
            }
        }
    }

    private String start(String name, io.grpc.BindableService service) {
        try {
            if (netty) {
                Server server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                        .directExecutor().addService(service).build().start();
                servers.add(server);
                return "127.0.0.1:" + server.getPort();
            }
            servers.add(InProcessServerBuilder.forName(name).executor(serverExecutor).addService(service).build()
                    .start());
            return name;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Coordinator addresses, comma separated, as clients are given them. */
    public String coordinatorAddresses() {
        List<String> a = new ArrayList<>();
        for (FakeCoordinator c : coordinators) {
            a.add(c.address());
        }
        return String.join(",", a);
    }

    /** An address nothing listens on (in-process: fails at once with UNAVAILABLE). */
    public String deadAddress() {
        return prefix + "-nobody";
    }

    /** Client options with in-process channels and a short timeout. */
    public ClientOptions.Builder options() {
        return inProcessOptions();
    }

    /** Client options with in-process channels and a short timeout. */
    public static ClientOptions.Builder inProcessOptions() {
        return ClientOptions.builder()
                .timeout(Duration.ofSeconds(5))
                .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(20))
                .channelFactory(address -> InProcessChannelBuilder.forName(address).directExecutor().build());
    }

    public FakeMaster master(int i) {
        return masters.get(i);
    }

    public List<FakeMaster> masters() {
        return masters;
    }

    public FakeCoordinator coordinator(int i) {
        return coordinators.get(i);
    }

    // ---------------------------------------------------------------- tables

    /** Creates a table of {@code span} equal tablets over masters 0..span-1 (round robin). */
    public synchronized FakeTable createTable(String name, int span) {
        if (tables.containsKey(name)) {
            return null;
        }
        FakeTable t = new FakeTable(nextTableId++, name);
        int n = Math.max(1, span);
        long step = n == 1 ? 0 : Long.divideUnsigned(-1L, n) + 1;
        for (int i = 0; i < n; i++) {
            long start = i * step;
            long end = i == n - 1 ? -1L : (i + 1) * step - 1;
            t.tablets.add(new FakeTablet(start, end, masters.get(i % masters.size())));
        }
        tables.put(name, t);
        return t;
    }

    public synchronized boolean dropTable(String name) {
        FakeTable t = tables.remove(name);
        if (t == null) {
            return false;
        }
        for (FakeMaster m : masters) {
            m.dropTableData(t.id);
        }
        return true;
    }

    public synchronized FakeTable table(String name) {
        return tables.get(name);
    }

    public synchronized FakeTable table(long id) {
        for (FakeTable t : tables.values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    public synchronized List<FakeTable> tables() {
        return new ArrayList<>(tables.values());
    }

    /** The tablet of a table containing a hash, or null. */
    public synchronized FakeTablet tabletFor(long tableId, long hash) {
        FakeTable t = table(tableId);
        if (t == null) {
            return null;
        }
        for (FakeTablet tablet : t.tablets) {
            if (Long.compareUnsigned(tablet.start, hash) <= 0 && Long.compareUnsigned(hash, tablet.end) <= 0) {
                return tablet;
            }
        }
        return null;
    }

    /** Moves a tablet, with its objects, to another master (atomic for every fake operation). */
    public synchronized void moveTablet(String table, int tabletIndex, FakeMaster to) {
        FakeTable t = tables.get(table);
        FakeTablet tablet = t.tablets.get(tabletIndex);
        FakeMaster from = tablet.owner;
        from.moveObjects(t.id, tablet.start, tablet.end, to);
        tablet.owner = to;
    }

    /** Sets a tablet's state (RECOVERING tablets answer UNKNOWN_TABLET at their owner). */
    public synchronized void setState(String table, int tabletIndex, TabletState state) {
        tables.get(table).tablets.get(tabletIndex).state = state;
    }

    @Override
    public void close() {
        for (Server s : servers) {
            s.shutdownNow();
        }
        try {
            for (Server s : servers) {
                s.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            serverExecutor.shutdownNow();
        }
    }

    /** A table of the fake cluster. */
    public static final class FakeTable {
        public final long id;
        public final String name;
        public final List<FakeTablet> tablets = new ArrayList<>();

        FakeTable(long id, String name) {
            this.id = id;
            this.name = name;
        }
    }

    /** A tablet: an inclusive unsigned hash range, its owner and state. */
    public static final class FakeTablet {
        public final long start;
        public final long end;
        public FakeMaster owner;
        public TabletState state = TabletState.NORMAL;

        FakeTablet(long start, long end, FakeMaster owner) {
            this.start = start;
            this.end = end;
            this.owner = owner;
        }
    }
}
