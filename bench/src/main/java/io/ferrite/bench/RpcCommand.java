package io.ferrite.bench;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.server.local.LocalCluster;
import io.ferrite.server.local.LocalContext;
import io.ferrite.server.local.StartFailure;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code ./ferrite bench rpc}: starts a {@code ferrite local}-style cluster (separate processes,
 * data in a temporary directory deleted afterwards), preloads keys through the SDK, then measures
 * reads and writes of 100-byte values at 1 operation in flight (one thread, synchronous calls:
 * latency) and at 64 in flight (asynchronous calls, each completion issuing the next: throughput).
 */
@Command(name = "rpc", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Measures the SDK against a local cluster it starts itself (ZooKeeper, a coordinator and N servers as"
                + " separate processes; data in a temporary directory, deleted afterwards).",
            "%nPreloads --keys keys (16-byte keys, 100-byte values), then runs read and write at 1 in flight"
                + " (one thread, synchronous calls) and at 64 in flight (asynchronous), each for a warmup and then"
                + " a measured period. Prints a table and writes JSON: [{\"op\",\"inFlight\",\"opsPerSec\","
                + "\"p50Us\",\"p99Us\",\"p999Us\"}, ...] (plus \"ops\" and \"errors\").",
            "%nExit status: 0 ok, 1 the cluster failed or an operation failed, 2 bad flags.", ""})
public final class RpcCommand implements Callable<Integer> {
    static final int KEY_BYTES = 16;
    static final int VALUE_BYTES = 100;
    static final int HIGH_IN_FLIGHT = 64;
    static final String TABLE = "bench";

    @Spec
    private CommandSpec spec;

    @Option(names = "--json", paramLabel = "FILE", required = true, description = "Where to write the JSON results.")
    private Path jsonFile;

    @Option(names = "--quick", description = "10k keys, 5 s JIT warmup, then 1 s warmup and 3 s measured per run"
            + " (default: 100k keys, 10 s JIT warmup, then 2 s warmup and 15 s measured per run).")
    private boolean quick;

    @Option(names = "--ops", paramLabel = "OP[,OP]", split = ",", defaultValue = "read,write",
            description = "Operations to measure, in order: read, write (default: ${DEFAULT-VALUE}).")
    private List<String> ops;

    @Option(names = "--in-flight", paramLabel = "N[,N]", split = ",", defaultValue = "1,64",
            description = "Loads to measure: 1 is one thread making synchronous calls, more is that many"
                + " asynchronous calls outstanding (default: ${DEFAULT-VALUE}).")
    private List<Integer> loads;

    @Option(names = "--servers", paramLabel = "N", defaultValue = "3",
            description = "Servers to start; the table spans all of them (default: ${DEFAULT-VALUE}).")
    private int servers;

    @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "256m",
            description = "Memory for objects of each server (default: ${DEFAULT-VALUE}).")
    private String memory;

    @Option(names = "--replicas", paramLabel = "R", defaultValue = "0",
            description = "Replication factor of the servers (default: ${DEFAULT-VALUE}, memory only: the serving"
                + " path alone; ./ferrite bench replication measures replicated writes).")
    private int replicas;

    @Option(names = "--keys", paramLabel = "N", description = "Keys to preload (default: 100000; 10000 with --quick).")
    private Integer keys;

    @Option(names = "--seconds", paramLabel = "S",
            description = "Measured seconds per run (default: 15; 3 with --quick).")
    private Integer seconds;

    @Option(names = "--warmup-seconds", paramLabel = "S",
            description = "Warmup seconds before each run (default: 2; 1 with --quick).")
    private Integer warmupSeconds;

    @Option(names = "--jit-warmup-seconds", paramLabel = "S",
            description = "Seconds of mixed reads and writes at 64 in flight before the first run, so that the"
                + " client and the servers run compiled code (default: 10; 5 with --quick).")
    private Integer jitWarmupSeconds;

    /** One measured run. */
    record Result(String op, int inFlight, long ops, long errors, double opsPerSec, double p50Us, double p99Us,
            double p999Us) {
    }

    @Override
    public Integer call() throws Exception {
        int keyCount = keys != null ? keys : quick ? 10_000 : 100_000;
        int measureS = seconds != null ? seconds : quick ? 3 : 15;
        int warmupS = warmupSeconds != null ? warmupSeconds : quick ? 1 : 2;
        int jitWarmupS = jitWarmupSeconds != null ? jitWarmupSeconds : quick ? 5 : 10;
        if (keyCount < 1) {
            throw new ParameterException(spec.commandLine(), "--keys: " + keyCount + " must be at least 1");
        }
        if (measureS < 1 || warmupS < 0 || jitWarmupS < 0) {
            throw new ParameterException(spec.commandLine(),
                    "--seconds must be >= 1, --warmup-seconds and --jit-warmup-seconds >= 0");
        }
        for (String op : ops) {
            if (!op.equals("read") && !op.equals("write")) {
                throw new ParameterException(spec.commandLine(), "--ops: unknown operation '" + op
                        + "' (read, write)");
            }
        }
        for (int load : loads) {
            if (load < 1 || load > 4096) {
                throw new ParameterException(spec.commandLine(), "--in-flight: " + load + " is not in 1..4096");
            }
        }
        Path dataDir = Files.createTempDirectory("ferrite-bench-rpc-");
        LocalContext context;
        try {
            context = new LocalContext().servers(servers).memory(memory).replicas(replicas).dataDir(dataDir)
                    .conclude();
        } catch (IllegalArgumentException e) {
            deleteTree(dataDir);
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintStream out = System.out;
        PrintStream err = System.err;
        AtomicReference<LocalCluster> running = new AtomicReference<>();
        // Ctrl-C: stop the cluster and remove the temporary directory before the JVM goes.
        Thread cleanup = new Thread(() -> cleanUp(running, dataDir, err), "bench-rpc-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            err.printf("bench rpc: starting %d server%s (%s each), data in %s%n", context.servers(),
                    context.servers() == 1 ? "" : "s", context.memory(), dataDir);
            long t0 = System.nanoTime();
            running.set(LocalCluster.start(context, err));
            err.printf("bench rpc: cluster serving at %s (%.1f s)%n", running.get().address(),
                    (System.nanoTime() - t0) / 1e9);
            List<Result> results = measure(running.get().address(), keyCount, jitWarmupS, warmupS, measureS, out,
                    err);
            writeJson(jsonFile, results);
            out.println("JSON written to " + jsonFile);
            return results.stream().anyMatch(r -> r.errors() > 0) ? 1 : 0;
        } catch (StartFailure e) {
            err.println("bench rpc: the cluster did not start: " + e.getMessage());
            return 1;
        } finally {
            cleanUp(running, dataDir, err);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException e) {
                // Already shutting down: the hook runs (and finds nothing left to do).
            }
        }
    }

    private static void cleanUp(AtomicReference<LocalCluster> running, Path dataDir, PrintStream err) {
        LocalCluster cluster = running.getAndSet(null);
        try {
            if (cluster != null) {
                err.println("bench rpc: stopping the cluster");
                if (cluster.stop() != 0) {
                    err.println("bench rpc: some process did not stop cleanly");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                deleteTree(dataDir);
            } catch (IOException e) {
                err.println("bench rpc: cannot delete " + dataDir + ": " + e.getMessage());
            }
        }
    }

    private List<Result> measure(String address, int keyCount, int jitWarmupS, int warmupS, int measureS,
            PrintStream out, PrintStream err) throws InterruptedException {
        ClientOptions options = ClientOptions.builder().timeout(Duration.ofSeconds(10)).build();
        try (FerriteClient client = Ferrite.connect(address, options)) {
            client.createTable(TABLE, servers);
            Table table = client.table(TABLE);
            byte[][] keyBytes = new byte[keyCount][];
            for (int i = 0; i < keyCount; i++) {
                keyBytes[i] = key(i);
            }
            long t0 = System.nanoTime();
            Result preload = preload(table, keyBytes);
            err.printf(Locale.ROOT, "bench rpc: preloaded %,d keys in %.1f s (%,.0f writes/s)%n", keyCount,
                    (System.nanoTime() - t0) / 1e9, preload.opsPerSec());
            if (preload.errors() > 0) {
                throw new IllegalStateException(preload.errors() + " preload writes failed");
            }
            if (jitWarmupS > 0) {
                err.printf("bench rpc: %d s of mixed reads and writes at %d in flight to compile the hot paths%n",
                        jitWarmupS, HIGH_IN_FLIGHT);
                AsyncRun warm = new AsyncRun(table, null, keyBytes, value(), new Recorder(3),
                        System.nanoTime() + TimeUnit.SECONDS.toNanos(jitWarmupS), 0, HIGH_IN_FLIGHT);
                warm.startAndAwait();
                if (warm.errors.get() > 0) {
                    throw new IllegalStateException(warm.errors.get() + " warmup operations failed");
                }
            }
            List<Result> results = new ArrayList<>();
            out.printf("%nrpc benchmark: %d server%s, %,d keys of %d B, values of %d B, %d s warmup + %d s per run%n%n",
                    servers, servers == 1 ? "" : "s", keyCount, KEY_BYTES, VALUE_BYTES, warmupS, measureS);
            out.printf("%-6s %9s %12s %10s %10s %10s %8s%n", "op", "inFlight", "ops/s", "p50 us", "p99 us",
                    "p99.9 us", "errors");
            for (String op : ops) {
                for (int inFlight : loads) {
                    Result r = inFlight == 1 ? runSync(table, op, keyBytes, warmupS, measureS)
                            : runAsync(table, op, keyBytes, inFlight, warmupS, measureS);
                    results.add(r);
                    out.printf(Locale.ROOT, "%-6s %9d %12.0f %10.1f %10.1f %10.1f %8d%n", r.op(), r.inFlight(),
                            r.opsPerSec(), r.p50Us(), r.p99Us(), r.p999Us(), r.errors());
                    out.flush();
                }
            }
            out.println();
            return results;
        }
    }

    /** {@code key-%012d}: 16 bytes, spread over the hash space by the cluster's hashing. */
    static byte[] key(int index) {
        return String.format(Locale.ROOT, "key-%012d", index).getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] value() {
        byte[] value = new byte[VALUE_BYTES];
        ThreadLocalRandom.current().nextBytes(value);
        return value;
    }

    static Result preload(Table table, byte[][] keys) throws InterruptedException {
        AtomicLong next = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        CountDownLatch done = new CountDownLatch(HIGH_IN_FLIGHT);
        byte[] value = value();
        long t0 = System.nanoTime();
        for (int lane = 0; lane < HIGH_IN_FLIGHT; lane++) {
            preloadNext(table, keys, value, next, errors, done);
        }
        done.await();
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Result("preload", HIGH_IN_FLIGHT, keys.length, errors.get(), keys.length / seconds, 0, 0, 0);
    }

    private static void preloadNext(Table table, byte[][] keys, byte[] value, AtomicLong next, AtomicLong errors,
            CountDownLatch done) {
        long i = next.getAndIncrement();
        if (i >= keys.length) {
            done.countDown();
            return;
        }
        table.writeAsync(keys[(int) i], value).whenComplete((version, failure) -> {
            if (failure != null) {
                errors.incrementAndGet();
            }
            preloadNext(table, keys, value, next, errors, done);
        });
    }

    static Result runSync(Table table, String op, byte[][] keys, int warmupS, int measureS) {
        boolean read = op.equals("read");
        SplittableRandom random = new SplittableRandom();
        byte[] value = value();
        Histogram histogram = newHistogram();
        long errors = 0;
        long ops = 0;
        long measureStart = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupS);
        long end = measureStart + TimeUnit.SECONDS.toNanos(measureS);
        while (true) {
            byte[] key = keys[random.nextInt(keys.length)];
            long start = System.nanoTime();
            if (start >= end) {
                break;
            }
            boolean ok = true;
            try {
                if (read) {
                    ok = table.read(key).isPresent();
                } else {
                    table.write(key, value);
                }
            } catch (RuntimeException e) {
                ok = false;
            }
            long now = System.nanoTime();
            if (start >= measureStart) {
                if (ok) {
                    histogram.recordValue(now - start);
                    ops++;
                } else {
                    errors++;
                }
            }
        }
        return result(op, 1, ops, errors, measureS, histogram);
    }

    /** Keeps {@code inFlight} asynchronous operations outstanding: each completion issues the next. */
    static Result runAsync(Table table, String op, byte[][] keys, int inFlight, int warmupS, int measureS)
            throws InterruptedException {
        Recorder recorder = new Recorder(3);
        AsyncRun run = new AsyncRun(table, op.equals("read"), keys, value(), recorder,
                System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupS), measureS, inFlight);
        run.startAndAwait();
        return result(op, inFlight, run.ops.get(), run.errors.get(), measureS, recorder.getIntervalHistogram());
    }

    private static final class AsyncRun {
        final Table table;
        /** True: reads; false: writes; null: each operation picks one at random (warmup). */
        final Boolean read;
        final byte[][] keys;
        final byte[] value;
        final Recorder recorder;
        final long measureStart;
        final long end;
        final CountDownLatch done;
        final AtomicLong ops = new AtomicLong();
        final AtomicLong errors = new AtomicLong();

        AsyncRun(Table table, Boolean read, byte[][] keys, byte[] value, Recorder recorder, long measureStart,
                int measureS, int inFlight) {
            this.table = table;
            this.read = read;
            this.keys = keys;
            this.value = value;
            this.recorder = recorder;
            this.measureStart = measureStart;
            this.end = measureStart + TimeUnit.SECONDS.toNanos(measureS);
            this.done = new CountDownLatch(inFlight);
        }

        void startAndAwait() throws InterruptedException {
            for (long lane = done.getCount(); lane > 0; lane--) {
                issue();
            }
            done.await();
        }

        private void issue() {
            long start = System.nanoTime();
            if (start >= end) {
                done.countDown();
                return;
            }
            byte[] key = keys[ThreadLocalRandom.current().nextInt(keys.length)];
            boolean reading = read != null ? read : ThreadLocalRandom.current().nextBoolean();
            CompletableFuture<?> future = reading ? table.readAsync(key) : table.writeAsync(key, value);
            future.whenComplete((answer, failure) -> {
                long now = System.nanoTime();
                if (start >= measureStart && now <= end) {
                    if (failure == null) {
                        recorder.recordValue(now - start);
                        ops.incrementAndGet();
                    } else {
                        errors.incrementAndGet();
                    }
                }
                issue();
            });
        }
    }

    private static Histogram newHistogram() {
        return new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    }

    private static Result result(String op, int inFlight, long ops, long errors, int measureS, Histogram h) {
        return new Result(op, inFlight, ops, errors, (double) ops / measureS,
                h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3, h.getValueAtPercentile(99.9) / 1e3);
    }

    static void writeJson(Path file, List<Result> results) throws IOException {
        StringBuilder json = new StringBuilder("[\n");
        for (int i = 0; i < results.size(); i++) {
            Result r = results.get(i);
            json.append(String.format(Locale.ROOT, "  {\"op\":\"%s\",\"inFlight\":%d,\"opsPerSec\":%.1f,\"p50Us\":%.1f,"
                    + "\"p99Us\":%.1f,\"p999Us\":%.1f,\"ops\":%d,\"errors\":%d}", r.op(), r.inFlight(), r.opsPerSec(),
                    r.p50Us(), r.p99Us(), r.p999Us(), r.ops(), r.errors()));
            json.append(i + 1 < results.size() ? ",\n" : "\n");
        }
        json.append("]\n");
        writeAtomically(file, json.toString());
    }

    /** Writes {@code text} to {@code file} through a temporary sibling and an atomic rename. */
    static void writeAtomically(Path file, String text) throws IOException {
        Path absolute = file.toAbsolutePath();
        if (absolute.getParent() != null) {
            Files.createDirectories(absolute.getParent());
        }
        Path temporary = absolute.resolveSibling(absolute.getFileName() + ".tmp");
        Files.writeString(temporary, text, StandardCharsets.UTF_8);
        Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
