package io.ferrite.bench.compare;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.TableNotFoundException;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Tablet;
import io.ferrite.proto.v1.TabletState;
import io.ferrite.server.local.LocalCluster;
import io.ferrite.server.local.LocalContext;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Ferrite cluster started as {@code ./ferrite local} starts one (ZooKeeper, a coordinator and
 * N servers as separate processes), with R replicas, and the YCSB table spread over every
 * server ({@code serverSpan} = servers).
 */
public final class FerritePeer implements PeerSystem {
    /** What a {@code kill -9} of a master cost: detection, time until its tablets served again, its data. */
    public record MasterLoss(long detectMs, long serviceMs, long victimObjects, long victimKeyValueBytes) {
    }

    private final LocalCluster cluster;
    private final LocalContext context;
    private final FerriteClient client;
    private final ManagedChannel coordinator;
    private final String table;

    private FerritePeer(LocalCluster cluster, LocalContext context, String table) {
        this.cluster = cluster;
        this.context = context;
        this.table = table;
        this.client = Ferrite.connect(cluster.address(), ClientOptions.builder().timeout(Duration.ofSeconds(120)).build());
        this.coordinator = NettyChannelBuilder.forTarget(cluster.address()).usePlaintext().build();
    }

    /**
     * Starts the cluster and returns once every server is UP.
     *
     * @param memory each server's log memory, e.g. {@code 1g}
     * @param table  the YCSB table name
     */
    public static FerritePeer start(int servers, int replicas, String memory, Path dir, String table,
                                    PrintStream progress) throws Exception {
        LocalContext context = new LocalContext().servers(servers).replicas(replicas).memory(memory).dataDir(dir)
                .conclude();
        long t0 = System.nanoTime();
        LocalCluster cluster = LocalCluster.start(context, progress);
        FerritePeer peer = new FerritePeer(cluster, context, table);
        progress.printf("compare: ferrite-r%d ready: %d server(s) of %s (%.1f s)%n", replicas, servers, memory,
                (System.nanoTime() - t0) / 1e9);
        return peer;
    }

    @Override
    public String name() {
        return "ferrite-r" + context.replicas();
    }

    @Override
    public String description() {
        return "Ferrite 0.1.0 (this commit): " + context.servers() + " server(s) of " + context.memory()
                + " log memory, R=" + context.replicas() + " (a write is acknowledged once "
                + (context.replicas() == 0 ? "in the master's log" : context.replicas() + " backup(s) buffered it")
                + "), ZooKeeper and one coordinator as separate processes; YCSB table spread over every server";
    }

    @Override
    public String ycsbBinding() {
        return FerriteYcsbClient.class.getName();
    }

    @Override
    public Map<String, String> ycsbProperties() {
        return Map.of(FerriteYcsbClient.ADDRESS, cluster.address());
    }

    /** Every process: ZooKeeper and the coordinator too, since they share the server cores. */
    @Override
    public List<ProcessHandle> processes() {
        return cluster.processes();
    }

    @Override
    public void clear() {
        try {
            client.dropTable(table);
        } catch (TableNotFoundException e) {
            // nothing to clear
        }
        client.createTable(table, context.servers());
    }

    /**
     * {@code rss}: the servers' resident sets (ZooKeeper's and the coordinator's are a fixed cost
     * apart from the data, reported as {@code rss_control}); {@code log_and_index}: memory the
     * logs hold plus the hash tables, from the servers' gauges.
     */
    @Override
    public Map<String, Long> memory() throws IOException, InterruptedException {
        long log = 0;
        for (String metrics : cluster.serverMetricsAddresses().values()) {
            log += (long) FerriteProbe.gauge(metrics, "ferrite_memory_used_bytes");
            log += (long) FerriteProbe.gauge(metrics, "ferrite_hashtable_bytes");
        }
        List<ProcessHandle> servers = new ArrayList<>(cluster.serverProcesses().values());
        List<ProcessHandle> control = new ArrayList<>(cluster.processes());
        control.removeAll(servers);
        Map<String, Long> out = new LinkedHashMap<>();
        out.put("rss", Procs.rssBytes(servers));
        out.put("rss_control", Procs.rssBytes(control));
        out.put("log_and_index", log);
        return out;
    }

    /**
     * {@code kill -9} of the master of the table's first tablet; returns once every tablet of the
     * table is NORMAL on a live master and a read of {@code probeKey} succeeded.
     */
    public MasterLoss killMasterAndRecover(String probeKey) throws Exception {
        Tablet first = FerriteProbe.tablets(coordinator, table).getFirst();
        long victimId = first.getOwnerId();
        String victim = first.getOwnerAddress();
        String metrics = cluster.serverMetricsAddresses().get(victim);
        long objects = (long) FerriteProbe.gauge(metrics, "ferrite_objects_live");
        long bytes = (long) FerriteProbe.gauge(metrics, "ferrite_objects_key_value_bytes");
        ProcessHandle process = cluster.serverProcesses().get(victim);
        long t0 = System.nanoTime();
        process.destroyForcibly();
        long detected = 0;
        long deadline = t0 + TimeUnit.MINUTES.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (detected == 0) {
                if (FerriteProbe.status(coordinator, victimId) != ServerStatus.UP) {
                    detected = System.nanoTime();
                }
                Thread.sleep(5);
                continue;
            }
            List<Tablet> now = FerriteProbe.tablets(coordinator, table);
            if (FerriteProbe.coversHashSpace(now)
                    && now.stream().allMatch(t -> t.getState() == TabletState.NORMAL && t.getOwnerId() != victimId)) {
                client.table(table).read(probeKey);
                long served = System.nanoTime();
                return new MasterLoss((detected - t0) / 1_000_000, (served - t0) / 1_000_000, objects, bytes);
            }
            Thread.sleep(10);
        }
        throw new IllegalStateException("the tablets of " + victim + " were not recovered within 10 minutes");
    }

    @Override
    public void close() throws IOException {
        client.close();
        coordinator.shutdownNow();
        try {
            cluster.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Trees.delete(context.dataDir());
    }
}
