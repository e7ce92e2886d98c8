package io.ferrite.bench;

import io.ferrite.bench.compare.FerriteProbe;
import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.ObjectValue;
import io.ferrite.client.Table;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Tablet;
import io.ferrite.proto.v1.TabletState;
import io.ferrite.server.local.LocalCluster;
import io.ferrite.server.local.LocalContext;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./ferrite bench recovery}: loads data into one master's tablet of a local cluster
 * (R=2), kills that master with {@code kill -9} and measures detection, recovery and the time
 * until every key serves again; then reads every key back to count lost acknowledged writes.
 * One run per value size (100 bytes and 1 KB).
 */
@Command(name = "recovery", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Measures crash recovery on a local cluster it starts itself (separate processes, R=2).",
            "%nPer value size (100 B, 1 KB): loads --data bytes of values into a table of span 1 (one master),"
                + " kill -9 of that master, then times detection (kill -> CRASHED), recovery (CRASHED -> every"
                + " tablet NORMAL) and total unavailability (kill -> a key reads again), and reads every key back."
                + " JSON: one row per run.", ""})
public final class RecoveryCommand implements Callable<Integer> {
    private static final String TABLE = "recovery";
    private static final int KEY_BYTES = 16;
    private static final long SEED = 0x5EED_0010L;

    @Option(names = "--json", paramLabel = "FILE", required = true, description = "Where to write the JSON rows.")
    private Path jsonFile;

    @Option(names = "--quick", description = "256 MB of values per run (default: --data).")
    private boolean quick;

    @Option(names = "--servers", paramLabel = "N", defaultValue = "4", description = "Servers (default: 4).")
    private int servers;

    @Option(names = "--data", paramLabel = "SIZE", defaultValue = "2g",
            description = "Value bytes loaded per run (default: ${DEFAULT-VALUE}; 256m with --quick).")
    private String data;

    @Option(names = "--value-bytes", paramLabel = "N[,N]", split = ",", defaultValue = "100,1000",
            description = "Value sizes, one run each (default: ${DEFAULT-VALUE}).")
    private List<Integer> valueSizes;

    @Option(names = "--keep-logs", description = "Keep each run's data directory (server logs) instead of deleting it.")
    private boolean keepLogs;

    @Option(names = "--no-redis", description = "Skip the Redis RDB comparison.")
    private boolean noRedis;

    record Row(long dataBytes, long objects, int valueBytes, long detectMs, long recoveryMs, long totalUnavailableMs,
               int recoveryMastersUsed, double replayMBpsPerMaster, long lostAcknowledgedWrites,
               double serviceMBps, Double redisRdbLoadMBps, Long redisRdbBytes, Long redisLoadMs) {
    }

    @Override
    public Integer call() throws Exception {
        long dataBytes = quick ? 256L << 20 : ByteSizeConverter.parse(data);
        java.nio.file.Path redis = noRedis ? null : RedisRdbLoad.findOrInstall(System.err);
        List<Row> rows = new ArrayList<>();
        for (int valueBytes : valueSizes) {
            Row row = run(dataBytes, valueBytes, System.err);
            if (redis != null) {
                long objects = dataBytes / valueBytes;
                RedisRdbLoad.Result r = RedisRdbLoad.measure(redis, objects, RecoveryCommand::keyOf,
                        i -> valueOf(i, valueBytes), System.err);
                row = new Row(row.dataBytes(), row.objects(), row.valueBytes(), row.detectMs(), row.recoveryMs(),
                        row.totalUnavailableMs(), row.recoveryMastersUsed(), row.replayMBpsPerMaster(),
                        row.lostAcknowledgedWrites(), row.serviceMBps(),
                        r.loadMs() == 0 ? null : dataBytes / 1e6 / (r.loadMs() / 1e3), r.rdbBytes(), r.loadMs());
            }
            System.err.println("bench recovery: " + row);
            rows.add(row);
            writeJson(rows);
        }
        System.out.println("JSON written to " + jsonFile);
        return rows.stream().anyMatch(r -> r.lostAcknowledgedWrites() != 0) ? 1 : 0;
    }

    private Row run(long dataBytes, int valueBytes, PrintStream err) throws Exception {
        long objects = dataBytes / valueBytes;
        // Each server must be able to hold the whole data set plus the cleaner's room.
        long memoryMb = Math.max(256, (dataBytes * 5 / 2 + (objects * 40)) >> 20);
        Path dir = Files.createTempDirectory("ferrite-bench-recovery-");
        LocalContext context = new LocalContext().servers(servers).replicas(2).memory(memoryMb + "m").dataDir(dir)
                .conclude();
        err.printf("bench recovery: %d servers of %d MB, R=2; %d objects of %d B (%d MB)%n", servers, memoryMb,
                objects, valueBytes, dataBytes >> 20);
        LocalCluster cluster = LocalCluster.start(context, err);
        ManagedChannel coordinator = NettyChannelBuilder.forTarget(cluster.address()).usePlaintext().build();
        try (FerriteClient client = Ferrite.connect(cluster.address(),
                ClientOptions.builder().timeout(Duration.ofSeconds(120)).build())) {
            client.createTable(TABLE, 1);
            Table table = client.table(TABLE);
            load(table, objects, valueBytes, err);
            Tablet tablet = tablets(coordinator).getFirst();
            long victimId = tablet.getOwnerId();
            String victim = tablet.getOwnerAddress();
            ProcessHandle process = cluster.serverProcesses().get(victim);
            err.printf("bench recovery: kill -9 of %s (pid %d), the master of every key%n", victim, process.pid());
            long t0 = System.nanoTime();
            process.destroyForcibly();
            long detected = 0;
            long recovered = 0;
            Set<Long> owners = new HashSet<>();
            long deadline = t0 + TimeUnit.MINUTES.toNanos(10);
            while (recovered == 0 && System.nanoTime() < deadline) {
                // Polled every 5 ms until detection, every 25 ms after (a recovery takes seconds):
                // the poll's own RPCs load the coordinator and this process, on the same cores.
                if (detected == 0) {
                    if (status(coordinator, victimId) != ServerStatus.UP) {
                        detected = System.nanoTime();
                        err.printf("bench recovery: CRASHED after %d ms%n", (detected - t0) / 1_000_000);
                    }
                    Thread.sleep(5);
                    continue;
                }
                List<Tablet> now = tablets(coordinator);
                if (coversHashSpace(now)
                        && now.stream().allMatch(t -> t.getState() == TabletState.NORMAL && t.getOwnerId() != victimId)) {
                    recovered = System.nanoTime();
                    now.forEach(t -> owners.add(t.getOwnerId()));
                }
                Thread.sleep(25);
            }
            if (recovered == 0) {
                throw new IllegalStateException("the tablets were not recovered within 10 minutes");
            }
            table.read(keyOf(objects - 1));
            long served = System.nanoTime();
            long recoveryMs = (recovered - detected) / 1_000_000;
            // Value bytes per second per recovery master over the recovery (CRASHED -> NORMAL), fetch
            // and durability included: the recovery masters' own logs break it down.
            double mbps = recoveryMs == 0 ? 0 : dataBytes / 1e6 / (recoveryMs / 1e3) / owners.size();
            err.printf("bench recovery: every tablet NORMAL %d ms after the kill, on %d master(s); checking every"
                    + " key%n", (recovered - t0) / 1_000_000, owners.size());
            long lost = verify(table, objects, valueBytes, err);
            long unavailableMs = (served - t0) / 1_000_000;
            return new Row(dataBytes, objects, valueBytes, (detected - t0) / 1_000_000, recoveryMs, unavailableMs,
                    owners.size(), mbps, lost, unavailableMs == 0 ? 0 : dataBytes / 1e6 / (unavailableMs / 1e3), null,
                    null, null);
        } finally {
            coordinator.shutdownNow();
            cluster.stop();
            if (keepLogs) {
                err.println("bench recovery: logs kept in " + dir.resolve("logs"));
            } else {
                deleteTree(dir);
            }
        }
    }

    private static byte[] keyOf(long i) {
        byte[] key = new byte[KEY_BYTES];
        key(i, key);
        return key;
    }

    private static void key(long i, byte[] key) {
        byte[] digits = String.format(Locale.ROOT, "k%015d", i).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(digits, 0, key, 0, KEY_BYTES);
    }

    private static byte[] valueOf(long i, int valueBytes) {
        byte[] value = new byte[valueBytes];
        new SplittableRandom(SEED ^ i).nextBytes(value);
        return value;
    }

    private static void load(Table table, long objects, int valueBytes, PrintStream err) throws Exception {
        Semaphore window = new Semaphore(256);
        AtomicLong failed = new AtomicLong();
        long t0 = System.nanoTime();
        long lastReport = t0;
        for (long i = 0; i < objects; i++) {
            window.acquire();
            table.writeAsync(keyOf(i), valueOf(i, valueBytes)).whenComplete((v, e) -> {
                if (e != null) {
                    failed.incrementAndGet();
                }
                window.release();
            });
            if (System.nanoTime() - lastReport > TimeUnit.SECONDS.toNanos(5)) {
                lastReport = System.nanoTime();
                err.printf("bench recovery: loaded %d / %d (%.0f writes/s)%n", i, objects,
                        i / ((lastReport - t0) / 1e9));
            }
        }
        window.acquire(256);
        if (failed.get() > 0) {
            throw new IllegalStateException(failed.get() + " writes failed while loading");
        }
        err.printf("bench recovery: loaded %d objects in %.1f s%n", objects, (System.nanoTime() - t0) / 1e9);
    }

    /** Reads every key back; returns how many are missing or wrong. */
    private static long verify(Table table, long objects, int valueBytes, PrintStream err) throws Exception {
        Semaphore window = new Semaphore(256);
        AtomicLong lost = new AtomicLong();
        for (long i = 0; i < objects; i++) {
            window.acquire();
            long n = i;
            CompletableFuture<Optional<ObjectValue>> read = table.readAsync(keyOf(i));
            read.whenComplete((v, e) -> {
                if (e != null || v.isEmpty() || !Arrays.equals(v.get().value(), valueOf(n, valueBytes))) {
                    if (lost.incrementAndGet() <= 5) {
                        err.printf("bench recovery: key %d lost or wrong (%s)%n", n, e != null ? e : v);
                    }
                }
                window.release();
            });
        }
        window.acquire(256);
        return lost.get();
    }

    private static boolean coversHashSpace(List<Tablet> tablets) {
        return FerriteProbe.coversHashSpace(tablets);
    }

    private static List<Tablet> tablets(ManagedChannel coordinator) {
        return FerriteProbe.tablets(coordinator, TABLE);
    }

    private static ServerStatus status(ManagedChannel coordinator, long serverId) {
        return FerriteProbe.status(coordinator, serverId);
    }

    private void writeJson(List<Row> rows) throws IOException {
        StringBuilder json = new StringBuilder("[\n");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            json.append(String.format(Locale.ROOT, "  {\"dataBytes\":%d,\"objects\":%d,\"valueBytes\":%d,\"detectMs\":%d,"
                            + "\"recoveryMs\":%d,\"totalUnavailableMs\":%d,\"recoveryMastersUsed\":%d,"
                            + "\"replayMBpsPerMaster\":%.1f,\"lostAcknowledgedWrites\":%d,\"serviceMBps\":%.1f,"
                            + "\"redisRdbLoadMBps\":%s,\"redisRdbBytes\":%s,\"redisLoadMs\":%s,"
                            + "\"serviceToRedisRatio\":%s}%s%n",
                    r.dataBytes(), r.objects(), r.valueBytes(), r.detectMs(), r.recoveryMs(), r.totalUnavailableMs(),
                    r.recoveryMastersUsed(), r.replayMBpsPerMaster(), r.lostAcknowledgedWrites(), r.serviceMBps(),
                    r.redisRdbLoadMBps() == null ? "null" : String.format(Locale.ROOT, "%.1f", r.redisRdbLoadMBps()),
                    r.redisRdbBytes(), r.redisLoadMs(),
                    r.redisRdbLoadMBps() == null ? "null"
                            : String.format(Locale.ROOT, "%.2f", r.serviceMBps() / r.redisRdbLoadMBps()),
                    i + 1 < rows.size() ? "," : ""));
        }
        Files.writeString(jsonFile, json.append("]\n"));
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
