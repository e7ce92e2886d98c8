package io.ferrite.bench;

import io.ferrite.bench.compare.FerriteProbe;
import io.ferrite.bench.compare.RedisPeer;
import io.ferrite.bench.compare.Trees;
import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.ObjectValue;
import io.ferrite.client.Table;
import io.ferrite.client.TableSnapshot;
import io.ferrite.client.WriteOp;
import io.ferrite.server.local.LocalCluster;
import io.ferrite.server.local.LocalContext;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;

/**
 * {@code ./ferrite bench services}: what the in-memory data services cost, against Redis's
 * {@code BGSAVE} on the same data in the same run. Per value size: loads a table on one master
 * of a local cluster (separate processes, as {@code ./ferrite local} starts them), takes a
 * snapshot idle and one under an overwrite load, measures the time and the memory the snapshot
 * adds at creation (the server's PSS), overwrites a quarter of the data (the issue's 1 GB of 4 GB)
 * and checks that the first snapshot still reads every object with its original value; then
 * loads the same objects into Redis and times a {@code BGSAVE} under the same kind of write load,
 * sampling the PSS of Redis and its fork (its copy-on-write) every few milliseconds.
 *
 * <p>Thin clones and online migration are not built yet: their fields are {@code null} and listed
 * under {@code notMeasured}.
 */
@Command(name = "services", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Measures snapshots on a local cluster against Redis BGSAVE on the same data, in one run.",
            "%nPer value size: load --data bytes of values into a table on one master; snapshot idle and under an"
                + " overwrite load (time, extra memory at creation); overwrite a quarter of the data; read the first"
                + " snapshot back whole. Redis: same objects, BGSAVE under a write load (time, peak extra PSS of"
                + " Redis and its fork).",
            "%nOptions:"})
public final class ServicesCommand implements Callable<Integer> {
    private static final String TABLE = "services";
    private static final int KEY_BYTES = 16;
    private static final long SEED = 0x5E41_1CE5L;
    private static final int BATCH = 100;
    private static final int IN_FLIGHT = 16;
    private static final int IDLE_SNAPSHOTS = 5;

    @Option(names = "--json", paramLabel = "FILE", required = true, description = "Where to write the JSON rows.")
    private Path jsonFile;

    @Option(names = "--quick", description = "512 MB of values instead of --data (under 8 minutes).")
    private boolean quick;

    @Option(names = "--data", paramLabel = "SIZE", description = "Value bytes to load per run (default: 4g).")
    private String data = "4g";

    @Option(names = "--value-bytes", paramLabel = "N", split = ",",
            description = "Value sizes, one run each (default: 100,1000).")
    private List<Integer> valueSizes = List.of(100, 1000);

    @Option(names = "--replicas", paramLabel = "R",
            description = "Backups per segment (default: 0, one server: the snapshot path does not depend on it).")
    private int replicas = 0;

    @Option(names = "--no-redis", description = "Skip the Redis BGSAVE comparison.")
    private boolean noRedis;

    record Row(long dataBytes, int valueBytes, long objects, double snapshotMs, double snapshotUnderLoadMs,
               long snapshotExtraPssBytes, double snapshotExtraMemoryShare, long overwriteBytes,
               long snapshotKeptBytes, boolean snapshotReadsCorrect, long snapshotObjectsRead,
               Long redisBgsaveMs, Long redisBgsavePeakExtraRssBytes, Long redisBaselinePssBytes) {
    }

    @Override
    public Integer call() throws Exception {
        long dataBytes = quick ? 512L << 20 : ByteSizeConverter.parse(data);
        PrintStream err = System.err;
        Path redis = noRedis ? null : RedisPeer.findOrInstall(err);
        List<Row> rows = new ArrayList<>();
        boolean allCorrect = true;
        for (int valueBytes : valueSizes) {
            Row row = ferrite(dataBytes, valueBytes, err);
            if (redis != null) {
                long[] bgsave = redisBgsave(redis, dataBytes / valueBytes, valueBytes, err);
                row = new Row(row.dataBytes(), row.valueBytes(), row.objects(), row.snapshotMs(),
                        row.snapshotUnderLoadMs(), row.snapshotExtraPssBytes(), row.snapshotExtraMemoryShare(),
                        row.overwriteBytes(), row.snapshotKeptBytes(), row.snapshotReadsCorrect(),
                        row.snapshotObjectsRead(), bgsave[0], bgsave[1], bgsave[2]);
            }
            allCorrect &= row.snapshotReadsCorrect();
            err.println("bench services: " + row);
            rows.add(row);
            writeJson(rows);
        }
        System.out.println("JSON written to " + jsonFile);
        return allCorrect ? 0 : 1;
    }

    private Row ferrite(long dataBytes, int valueBytes, PrintStream err) throws Exception {
        long objects = dataBytes / valueBytes;
        long overwrites = objects / 4;
        // The data, what the overwrites add (kept for the snapshot), and the cleaner's room.
        long memoryMb = Math.max(512, (dataBytes * 3 + objects * 64) >> 20);
        Path dir = Files.createTempDirectory("ferrite-bench-services-");
        LocalContext context = new LocalContext().servers(Math.max(1, replicas + 1)).replicas(replicas)
                .memory(memoryMb + "m").dataDir(dir).conclude();
        err.printf("bench services: %d server(s) of %d MB, R=%d; %d objects of %d B (%d MB)%n", context.servers(),
                memoryMb, replicas, objects, valueBytes, dataBytes >> 20);
        LocalCluster cluster = LocalCluster.start(context, err);
        try (FerriteClient client = Ferrite.connect(cluster.address(),
                ClientOptions.builder().timeout(Duration.ofSeconds(120)).build())) {
            client.createTable(TABLE, 1);
            Table table = client.table(TABLE);
            load(table, 0, objects, 0, valueBytes, err);
            io.grpc.ManagedChannel coordinator = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
                    .forTarget(cluster.address()).usePlaintext().build();
            String owner;
            try {
                owner = FerriteProbe.tablets(coordinator, TABLE).getFirst().getOwnerAddress();
            } finally {
                coordinator.shutdownNow();
            }
            ProcessHandle server = cluster.serverProcesses().get(owner);
            String metrics = cluster.serverMetricsAddresses().get(owner);

            // Idle: the snapshot's cost at creation. The first is kept for the read-back; the
            // median of IDLE_SNAPSHOTS is reported (the first call of its kind is the slowest).
            long pssBefore = pss(server);
            long t0 = System.nanoTime();
            TableSnapshot first = table.snapshot();
            double firstMs = (System.nanoTime() - t0) / 1e6;
            long pssAfter = pss(server);
            err.printf("bench services: snapshot %d of %d objects in %.2f ms; server PSS %+d bytes%n", first.id(),
                    first.objects(), firstMs, pssAfter - pssBefore);
            double[] idle = new double[IDLE_SNAPSHOTS];
            idle[0] = firstMs;
            for (int i = 1; i < IDLE_SNAPSHOTS; i++) {
                long s = System.nanoTime();
                TableSnapshot more = table.snapshot();
                idle[i] = (System.nanoTime() - s) / 1e6;
                more.drop();
            }
            Arrays.sort(idle);
            double snapshotMs = idle[IDLE_SNAPSHOTS / 2];
            err.printf("bench services: %d idle snapshots: median %.2f ms, min %.2f, max %.2f%n", IDLE_SNAPSHOTS,
                    snapshotMs, idle[0], idle[IDLE_SNAPSHOTS - 1]);

            // Under load: a snapshot in the middle of the overwrites.
            java.util.concurrent.CountDownLatch halfway = new java.util.concurrent.CountDownLatch(1);
            CompletableFuture<Double> underLoad = CompletableFuture.supplyAsync(() -> {
                try {
                    halfway.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
                long s = System.nanoTime();
                TableSnapshot second = table.snapshot();
                double ms = (System.nanoTime() - s) / 1e6;
                second.drop();
                return ms;
            });
            load(table, 0, overwrites, 1, valueBytes, err, halfway::countDown);
            double snapshotUnderLoadMs = underLoad.get(5, TimeUnit.MINUTES);
            long kept = (long) FerriteProbe.gauge(metrics, "ferrite_snapshots_kept_bytes");
            err.printf("bench services: snapshot under the overwrite load in %.2f ms; after %d overwrites the first"
                    + " snapshot keeps %d MB; reading it back whole%n", snapshotUnderLoadMs, overwrites, kept >> 20);

            long[] read = verify(first, objects, valueBytes, err);
            boolean correct = read[0] == objects && read[1] == 0;
            first.drop();
            return new Row(dataBytes, valueBytes, objects, snapshotMs, snapshotUnderLoadMs, pssAfter - pssBefore,
                    (double) Math.max(0, pssAfter - pssBefore) / dataBytes, overwrites * valueBytes, kept, correct,
                    read[0], null, null, null);
        } finally {
            cluster.stop();
            // Where each snapshot's time went, as the coordinator logged it.
            try (Stream<Path> logs = Files.list(dir.resolve("logs"))) {
                for (Path log : logs.filter(p -> p.getFileName().toString().startsWith("coordinator")).toList()) {
                    Files.readAllLines(log).stream().filter(l -> l.contains(" taken on "))
                            .forEach(l -> err.println("bench services: coordinator: " + l.substring(l.indexOf("snapshot"))));
                }
            } catch (IOException e) {
                err.println("bench services: no coordinator log to show (" + e.getMessage() + ")");
            }
            Trees.delete(dir);
        }
    }

    /** Writes objects [from, to) with generation {@code gen} values, in multi-write batches. */
    private static void load(Table table, long from, long to, int gen, int valueBytes, PrintStream err)
            throws Exception {
        load(table, from, to, gen, valueBytes, err, () -> { });
    }

    private static void load(Table table, long from, long to, int gen, int valueBytes, PrintStream err,
                             Runnable atHalf) throws Exception {
        Semaphore window = new Semaphore(IN_FLIGHT);
        AtomicLong failed = new AtomicLong();
        long t0 = System.nanoTime();
        long lastReport = t0;
        long half = from + (to - from) / 2;
        for (long i = from; i < to; i += BATCH) {
            if (i >= half && i < half + BATCH) {
                atHalf.run();
            }
            List<WriteOp> batch = new ArrayList<>(BATCH);
            for (long k = i; k < Math.min(to, i + BATCH); k++) {
                batch.add(WriteOp.of(keyOf(k), valueOf(k, gen, valueBytes)));
            }
            window.acquire();
            table.multiWriteAsync(batch).whenComplete((results, e) -> {
                if (e != null || results.stream().anyMatch(r -> !r.isOk())) {
                    failed.incrementAndGet();
                }
                window.release();
            });
            if (System.nanoTime() - lastReport > TimeUnit.SECONDS.toNanos(5)) {
                lastReport = System.nanoTime();
                err.printf("bench services: %s %d / %d (%.0f writes/s)%n", gen == 0 ? "loaded" : "overwrote", i - from,
                        to - from, (i - from) / ((lastReport - t0) / 1e9));
            }
        }
        window.acquire(IN_FLIGHT);
        if (failed.get() > 0) {
            throw new IllegalStateException(failed.get() + " write batches failed");
        }
        err.printf("bench services: %s %d objects in %.1f s%n", gen == 0 ? "loaded" : "overwrote", to - from,
                (System.nanoTime() - t0) / 1e9);
    }

    /** Enumerates the snapshot: {objects read, objects missing or wrong}. */
    private static long[] verify(TableSnapshot snapshot, long objects, int valueBytes, PrintStream err) {
        long read = 0;
        long wrong = 0;
        boolean[] seen = new boolean[(int) Math.min(Integer.MAX_VALUE - 8, objects)];
        long t0 = System.nanoTime();
        try (Stream<ObjectValue> all = snapshot.stream()) {
            Iterator<ObjectValue> it = all.iterator();
            while (it.hasNext()) {
                ObjectValue o = it.next();
                read++;
                long index = indexOf(o.key());
                if (index < 0 || index >= objects || seen[(int) index]
                        || !Arrays.equals(o.value(), valueOf(index, 0, valueBytes))) {
                    if (++wrong <= 5) {
                        err.printf("bench services: snapshot object %s is wrong%n", o.keyAsString());
                    }
                } else {
                    seen[(int) index] = true;
                }
            }
        }
        err.printf("bench services: read %d objects of the snapshot in %.1f s, %d wrong%n", read,
                (System.nanoTime() - t0) / 1e9, wrong);
        return new long[] {read, wrong};
    }

    /**
     * Redis: the same objects, then {@code BGSAVE} while a client overwrites a quarter of them.
     *
     * @return {BGSAVE ms, peak PSS of redis and its fork above the baseline, baseline PSS}
     */
    private static long[] redisBgsave(Path executable, long objects, int valueBytes, PrintStream err)
            throws Exception {
        Path dir = Files.createTempDirectory("ferrite-bench-services-redis-");
        int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Process redis = new ProcessBuilder(executable.toString(), "--port", Integer.toString(port), "--bind",
                "127.0.0.1", "--dir", dir.toString(), "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no",
                "--protected-mode", "no", "--daemonize", "no").redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start();
        try {
            awaitRedis(port, redis);
            long t0 = System.nanoTime();
            try (Jedis jedis = new Jedis("127.0.0.1", port, 60_000)) {
                Pipeline pipeline = jedis.pipelined();
                for (long i = 0; i < objects; i++) {
                    pipeline.set(keyOf(i), valueOf(i, 0, valueBytes));
                    if (i % 10_000 == 9_999) {
                        pipeline.sync();
                    }
                }
                pipeline.sync();
            }
            err.printf("bench services: Redis loaded %d objects in %.1f s; BGSAVE under an overwrite load%n", objects,
                    (System.nanoTime() - t0) / 1e9);
            ProcessHandle parent = redis.toHandle();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong batches = new AtomicLong();
            Thread writer = Thread.ofPlatform().name("bench-services-redis-writer").start(() -> {
                try (Jedis jedis = new Jedis("127.0.0.1", port, 60_000)) {
                    long i = 0;
                    while (!stop.get()) {
                        Pipeline pipeline = jedis.pipelined();
                        for (int k = 0; k < 1_000; k++, i++) {
                            pipeline.set(keyOf(i % objects), valueOf(i % objects, 1, valueBytes));
                        }
                        pipeline.sync();
                        batches.incrementAndGet();
                    }
                }
            });
            try (Jedis jedis = new Jedis("127.0.0.1", port, 60_000)) {
                // The baseline is taken with the write load running (its buffers are in it).
                while (batches.get() < 20 && writer.isAlive()) {
                    Thread.onSpinWait();
                }
                long baseline = pssTree(parent);
                long peak = baseline;
                long start = System.nanoTime();
                jedis.bgsave();
                while (true) {
                    peak = Math.max(peak, pssTree(parent));
                    String info = jedis.info("persistence");
                    if (info.contains("rdb_bgsave_in_progress:0") && System.nanoTime() - start > 1_000_000) {
                        break;
                    }
                    Thread.sleep(5);
                }
                long bgsaveMs = (System.nanoTime() - start) / 1_000_000;
                if (!jedis.info("persistence").contains("rdb_last_bgsave_status:ok")) {
                    throw new IOException("Redis BGSAVE failed; see " + dir.resolve("redis.log"));
                }
                stop.set(true);
                writer.join();
                err.printf("bench services: Redis BGSAVE took %d ms; PSS of Redis and its fork peaked %d MB above"
                        + " %d MB%n", bgsaveMs, (peak - baseline) >> 20, baseline >> 20);
                return new long[] {bgsaveMs, peak - baseline, baseline};
            } finally {
                stop.set(true);
                writer.join();
            }
        } finally {
            redis.destroyForcibly();
            redis.waitFor(30, TimeUnit.SECONDS);
            Trees.delete(dir);
        }
    }

    private static void awaitRedis(int port, Process redis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Jedis jedis = new Jedis("127.0.0.1", port, 5_000)) {
                if ("PONG".equals(jedis.ping())) {
                    return;
                }
            } catch (RuntimeException e) {
                if (!redis.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("redis-server did not start: " + e.getMessage(), e);
                }
            }
            Thread.sleep(5);
        }
    }

    /** Proportional set size of a process (its share of shared pages), from smaps_rollup. */
    static long pss(ProcessHandle process) throws IOException {
        Path rollup = Path.of("/proc", Long.toString(process.pid()), "smaps_rollup");
        try {
            for (String line : Files.readAllLines(rollup)) {
                if (line.startsWith("Pss:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (java.nio.file.FileSystemException e) {
            return 0; // it exited (a fork that just finished)
        }
        throw new IOException("no Pss line in " + rollup);
    }

    /** PSS of a process and its children (Redis and its BGSAVE fork): the memory they take together. */
    private static long pssTree(ProcessHandle process) throws IOException {
        long sum = pss(process);
        for (ProcessHandle child : process.children().toList()) {
            sum += pss(child);
        }
        return sum;
    }

    private static byte[] keyOf(long i) {
        return String.format(Locale.ROOT, "k%015d", i).getBytes(StandardCharsets.US_ASCII);
    }

    private static long indexOf(byte[] key) {
        if (key.length != KEY_BYTES || key[0] != 'k') {
            return -1;
        }
        try {
            return Long.parseLong(new String(key, 1, KEY_BYTES - 1, StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static byte[] valueOf(long i, int gen, int valueBytes) {
        byte[] value = new byte[valueBytes];
        new SplittableRandom(SEED ^ (i * 31 + gen)).nextBytes(value);
        return value;
    }

    private void writeJson(List<Row> rows) throws IOException {
        StringBuilder json = new StringBuilder("[\n");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            json.append(String.format(Locale.ROOT, "  {\"dataBytes\":%d,\"valueBytes\":%d,\"objects\":%d,"
                            + "\"snapshotMs\":%.3f,\"snapshotUnderLoadMs\":%.3f,\"snapshotExtraPssBytes\":%d,"
                            + "\"snapshotExtraMemoryShare\":%.6f,\"overwriteBytes\":%d,\"snapshotKeptBytes\":%d,"
                            + "\"snapshotReadsCorrect\":%s,\"snapshotObjectsRead\":%d,"
                            + "\"cloneMs\":null,\"cloneExtraMemoryBytes\":null,"
                            + "\"redisBgsaveMs\":%s,\"redisBgsavePeakExtraRssBytes\":%s,\"redisBaselinePssBytes\":%s,"
                            + "\"migrationErrors\":null,\"migrationP99Ratio\":null,"
                            + "\"notMeasured\":[\"clone\",\"migration\"],\"replicas\":%d}%s%n",
                    r.dataBytes(), r.valueBytes(), r.objects(), r.snapshotMs(), r.snapshotUnderLoadMs(),
                    r.snapshotExtraPssBytes(), r.snapshotExtraMemoryShare(), r.overwriteBytes(), r.snapshotKeptBytes(),
                    r.snapshotReadsCorrect(), r.snapshotObjectsRead(), r.redisBgsaveMs(),
                    r.redisBgsavePeakExtraRssBytes(), r.redisBaselinePssBytes(), replicas,
                    i + 1 < rows.size() ? "," : ""));
        }
        Files.writeString(jsonFile, json.append("]\n"));
    }
}
