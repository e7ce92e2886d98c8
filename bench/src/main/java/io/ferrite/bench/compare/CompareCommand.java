package io.ferrite.bench.compare;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import io.ferrite.bench.compare.hazelcast.HazelcastPeer;
import io.ferrite.bench.compare.hazelcast.MemberLoss;
import io.ferrite.bench.compare.report.CompareReport;
import io.ferrite.bench.compare.report.ReportInfo;
import io.ferrite.bench.compare.report.WorkloadSettings;
import java.time.Duration;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;
import site.ycsb.ByteArrayByteIterator;
import site.ycsb.ByteIterator;
import site.ycsb.DB;
import site.ycsb.Status;

/**
 * {@code ./ferrite bench compare}: Ferrite against Redis and Hazelcast in one run on this
 * machine. Every system is started fresh as real processes and pinned to the server cores;
 * YCSB's own client runs on the client cores with the same threads and operation counts for
 * every system. Phases per system and record size: the load, YCSB workloads (after one
 * unmeasured warm-up run of workload A on the first size), memory after the load and after
 * FAST'14's W3 update pattern, and a crash/restart. Writes JSON rows and a
 * Markdown report with charts.
 */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Ferrite (R=0 on one server; R=1 and R=2 on three) against Redis (appendfsync everysec and always) and"
                + " Hazelcast (3 members, one synchronous backup), in one run: YCSB load and workloads A, B, C, F"
                + " (and write-only for the durable trio), memory per record, and recovery/restart.",
            "Servers run on --server-cpus, the YCSB client on --client-cpus.", ""})
public final class CompareCommand implements Callable<Integer> {
    static final String TABLE = "usertable";
    static final List<String> SYSTEMS = List.of("redis-everysec", "redis-always", "hazelcast", "ferrite-r0",
            "ferrite-r1", "ferrite-r2");
    /** Systems whose memory is measured (one copy of the data each but Hazelcast's backup). */
    static final List<String> MEMORY_SYSTEMS = List.of("redis-everysec", "hazelcast", "ferrite-r0");
    /** The durable trio: write-only runs too. */
    static final List<String> DURABLE_SYSTEMS = List.of("redis-always", "hazelcast", "ferrite-r2");
    static final int HAZELCAST_MEMBERS = 3;
    /**
     * The Ferrite system whose master is killed: R=1 on three servers, Hazelcast's shape (one
     * backup, three members). R=2 on three servers cannot recover a lost server's data: its
     * recovery masters need two live backups besides themselves to make what they replay durable,
     * and only one is left.
     */
    static final String FERRITE_RECOVERY = "ferrite-r1";
    /** Each system's own account of the memory its data takes (Redis, Hazelcast, Ferrite). */
    static final List<String> DATA_METRICS = List.of("used_memory", "heap_used", "log_and_index");
    static final int W3_RECORD_BYTES = 100;
    static final int W3_AFTER_BYTES = 130;
    private static final long SEED = 0x5EED_C0A1L;

    @Option(names = "--quick", description = "8,000 records and operations per run (under 8 minutes in all).")
    private boolean quick;

    @Option(names = "--smoke", description = "A few hundred records and operations: checks that every phase works"
            + " and writes every row; figures mean nothing.")
    private boolean smoke;

    @Option(names = "--records", paramLabel = "N", description = "Records loaded per record size (default 500,000;"
            + " 8,000 with --quick).")
    private Long records;

    @Option(names = "--operations", paramLabel = "N", description = "Operations per workload run (default: --records).")
    private Long operations;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "8", description = "YCSB client threads (default: 8).")
    private int threads;

    @Option(names = "--record-bytes", paramLabel = "N[,N]", split = ",", defaultValue = "100,1000",
            description = "Record sizes: 1000 is YCSB's default (10 fields of 100 B), others one field (default: ${DEFAULT-VALUE}).")
    private List<Integer> recordSizes;

    @Option(names = "--systems", paramLabel = "S[,S]", split = ",",
            description = "Systems to run (default: all): redis-everysec, redis-always, hazelcast, ferrite-r0, ferrite-r1, ferrite-r2.")
    private List<String> systems;

    @Option(names = "--server-cpus", paramLabel = "LIST", description = "taskset CPU list of every system's processes,"
            + " applied once they started (default: 0 on a machine of 2+ cores, else unpinned).")
    private String serverCpus;

    @Option(names = "--client-cpus", paramLabel = "LIST", description = "taskset CPU list of the YCSB client"
            + " (default: the other cores).")
    private String clientCpus;

    @Option(names = "--json", paramLabel = "FILE", description = "JSON rows (default: <report>/compare.json).")
    private Path jsonFile;

    @Option(names = "--report", paramLabel = "DIR", defaultValue = "docs/benchmarks",
            description = "Where the Markdown report and charts go (default: ${DEFAULT-VALUE}).")
    private Path reportDir;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Scratch space for the systems' files and logs"
            + " (default: a new temporary directory).")
    private Path workDir;

    @Spec
    private CommandSpec spec;

    private final List<CompareRow> rows = new ArrayList<>();
    private final Map<String, String> descriptions = new LinkedHashMap<>();
    private long failures;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.err;
        long startNs = System.nanoTime();
        long n = records != null ? records : smoke ? 300 : quick ? 8_000 : 500_000;
        long ops = operations != null ? operations : n;
        List<String> run = systems == null ? SYSTEMS : systems;
        for (String s : run) {
            if (!SYSTEMS.contains(s)) {
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "unknown system '" + s + "'; known: " + SYSTEMS);
            }
        }
        int cores = Runtime.getRuntime().availableProcessors();
        String servers = serverCpus != null ? serverCpus : cores >= 2 ? "0" : null;
        String clients = clientCpus != null ? clientCpus : cores == 2 ? "1" : cores > 2 ? "1-" + (cores - 1) : null;
        Path work = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("ferrite-compare-");
        Path logs = Files.createDirectories(work.resolve("ycsb-logs"));
        Path json = jsonFile != null ? jsonFile : reportDir.resolve("compare.json");
        YcsbRun.Settings settings = new YcsbRun.Settings(System.getProperty("java.home"),
                System.getProperty("java.class.path"), clientJvmFlags(), clients, threads, n, ops, TABLE, logs);
        out.printf("compare: %s; %,d records and %,d operations per run, %d client threads, record sizes %s; servers on"
                + " CPUs %s, client on %s; work in %s%n", run, n, ops, threads, recordSizes, servers, clients, work);
        Path redis = run.stream().anyMatch(s -> s.startsWith("redis")) ? RedisPeer.findOrInstall(out) : null;
        for (String system : run) {
            long t0 = System.nanoTime();
            try (PeerSystem peer = start(system, redis, work.resolve(system), servers, n, out)) {
                if (peer == null) {
                    continue;
                }
                descriptions.put(system, peer.description());
                if (servers != null) {
                    Procs.pin(peer.processes(), servers);
                }
                measure(peer, settings, out);
            } catch (Exception e) {
                failures++;
                out.println("compare: " + system + " FAILED: " + e);
                e.printStackTrace(out);
            }
            out.printf("compare: %s done in %.0f s%n", system, (System.nanoTime() - t0) / 1e9);
            writeOutputs(json, settings, servers, clients, startNs);
        }
        writeOutputs(json, settings, servers, clients, startNs);
        out.printf("compare: %d rows in %s, report in %s (%.0f s in all)%n", rows.size(), json, reportDir,
                (System.nanoTime() - startNs) / 1e9);
        if (smoke) {
            List<String> missing = missingRows(run);
            if (!missing.isEmpty()) {
                out.println("compare --smoke: rows missing: " + missing);
                return 1;
            }
        }
        return failures == 0 ? 0 : 1;
    }

    private PeerSystem start(String system, Path redis, Path dir, String servers, long n, PrintStream out)
            throws Exception {
        long dataBytes = n * (recordSizes.stream().mapToInt(Integer::intValue).max().orElse(1000) + 64L);
        String memory = Math.max(256, dataBytes * 3 >> 20) + "m";
        return switch (system) {
            case "redis-everysec", "redis-always" -> {
                if (redis == null) {
                    out.println("compare: no redis-server; " + system + " skipped");
                    failures++;
                    yield null;
                }
                yield RedisPeer.start(redis, system.substring("redis-".length()), dir, servers, out);
            }
            case "hazelcast" -> {
                // Each of 3 members holds a third of the primaries and a third of the backups.
                long heapMb = Math.max(512, (dataBytes + n * 400) * 2 / 3 * 3 >> 20);
                yield HazelcastPeer.start(HAZELCAST_MEMBERS, heapMb + "m", dir, out);
            }
            case "ferrite-r0" -> FerritePeer.start(1, 0, memory, dir, TABLE, out);
            case "ferrite-r1" -> FerritePeer.start(3, 1, memory, dir, TABLE, out);
            case "ferrite-r2" -> FerritePeer.start(3, 2, memory, dir, TABLE, out);
            default -> throw new IllegalArgumentException(system);
        };
    }

    /** Every phase of one system, record size after record size; recovery on the last size's data. */
    private void measure(PeerSystem peer, YcsbRun.Settings settings, PrintStream out) throws Exception {
        String system = peer.name();
        boolean memory = MEMORY_SYSTEMS.contains(system);
        Map<String, Long> empty = memory ? peer.memory() : Map.of();
        for (int i = 0; i < recordSizes.size(); i++) {
            int recordBytes = recordSizes.get(i);
            peer.clear();
            ycsb(peer, settings, "load", recordBytes, out);
            if (memory) {
                memoryRows(peer, "memory-load", recordBytes, empty, settings.records(), out);
            }
            if (i == 0) {
                // Unmeasured: the JVM systems' compilers warm up here, not in the first measured workload.
                YcsbRun.run(settings, peer, "A", "warm-up", recordBytes, out);
            }
            for (String workload : workloadsOf(system)) {
                ycsb(peer, settings, workload, recordBytes, out);
            }
            if (memory && recordBytes == W3_RECORD_BYTES) {
                w3(peer, settings, out);
                memoryRows(peer, "memory-w3", recordBytes, empty, settings.records(), out);
            }
            if (i == recordSizes.size() - 1) {
                recovery(peer, settings, recordBytes, out);
            }
        }
    }

    private static List<String> workloadsOf(String system) {
        List<String> w = new ArrayList<>(system.equals("redis-always") ? List.of("A") : List.of("A", "B", "C", "F"));
        if (DURABLE_SYSTEMS.contains(system)) {
            w.add("write-only");
        }
        return w;
    }

    private void ycsb(PeerSystem peer, YcsbRun.Settings settings, String phase, int recordBytes, PrintStream out)
            throws IOException, InterruptedException {
        YcsbRun.Result result = YcsbRun.run(settings, peer, phase, recordBytes, out);
        rows.addAll(YcsbRun.rows(peer.name(), phase, recordBytes, result));
    }

    /**
     * Memory per record: the growth of the resident set over the empty system's (so the JVMs'
     * and allocators' fixed cost is not spread over the records), and the system's own account.
     */
    private void memoryRows(PeerSystem peer, String phase, int recordBytes, Map<String, Long> empty, long n,
                            PrintStream out) throws Exception {
        Map<String, Long> now = peer.memory();
        String dataMetric = DATA_METRICS.stream().filter(now::containsKey).findFirst().orElseThrow(
                () -> new IllegalStateException(peer.name() + " reports none of " + DATA_METRICS + ": " + now.keySet()));
        double rssPerRecord = (double) (now.get("rss") - empty.get("rss")) / n;
        double dataPerRecord = (double) now.get(dataMetric) / n;
        rows.add(new CompareRow(peer.name(), phase, recordBytes, "rss_per_record", "ALL", rssPerRecord, "bytes"));
        rows.add(new CompareRow(peer.name(), phase, recordBytes, "data_per_record", "ALL", dataPerRecord, "bytes"));
        rows.add(new CompareRow(peer.name(), phase, recordBytes, "rss_mb", "ALL", now.get("rss") / 1e6, "MB"));
        out.printf("compare: %-14s %-10s %4d B: RSS %.0f MB (%+.0f B/record over the empty system's), %s %.0f B/record%n",
                peer.name(), phase, recordBytes, now.get("rss") / 1e6, rssPerRecord, dataMetric, dataPerRecord);
    }

    /** FAST'14 W3: delete 90 % of the 100-byte records at random, then write them again with 130-byte values. */
    private void w3(PeerSystem peer, YcsbRun.Settings settings, PrintStream out) throws Exception {
        Map<String, String> properties = new LinkedHashMap<>(YcsbRun.baseProperties(settings, W3_RECORD_BYTES));
        KeyNames names = KeyNames.of(properties);
        SplittableRandom random = new SplittableRandom(SEED);
        List<String> victims = new ArrayList<>();
        for (long i = 0; i < settings.records(); i++) {
            if (random.nextInt(10) != 0) {
                victims.add(names.key(i));
            }
        }
        long t0 = System.nanoTime();
        long deleted = forEachKey(peer, victims, (db, key) -> db.delete(TABLE, key));
        long written = forEachKey(peer, victims, (db, key) -> {
            byte[] value = new byte[W3_AFTER_BYTES];
            new SplittableRandom(key.hashCode()).nextBytes(value);
            return db.insert(TABLE, key, Map.of("field0", new ByteArrayByteIterator(value)));
        });
        out.printf("compare: %-14s W3: %,d records deleted and %,d written again with %d-byte values (%.1f s)%n",
                peer.name(), deleted, written, W3_AFTER_BYTES, (System.nanoTime() - t0) / 1e9);
        if (deleted != victims.size() || written != victims.size()) {
            throw new IllegalStateException("W3: " + (victims.size() - deleted) + " deletes and "
                    + (victims.size() - written) + " writes failed");
        }
    }

    /** An operation on one key through a binding; OK counts. */
    private interface KeyOp {
        Status apply(DB db, String key) throws Exception;
    }

    /** Runs {@code op} on every key with the system's own YCSB binding, in this process, over the client threads. */
    private long forEachKey(PeerSystem peer, List<String> keys, KeyOp op) throws Exception {
        AtomicLong ok = new AtomicLong();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> tasks = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int slice = t;
                tasks.add(pool.submit(() -> {
                    DB db = binding(peer);
                    try {
                        for (int i = slice; i < keys.size(); i += threads) {
                            if (op.apply(db, keys.get(i)) == Status.OK) {
                                ok.incrementAndGet();
                            }
                        }
                    } finally {
                        db.cleanup();
                    }
                    return null;
                }));
            }
            for (Future<?> task : tasks) {
                task.get();
            }
        }
        return ok.get();
    }

    private static DB binding(PeerSystem peer) throws Exception {
        DB db = (DB) Class.forName(peer.ycsbBinding()).getDeclaredConstructor().newInstance();
        Properties p = new Properties();
        p.putAll(peer.ycsbProperties());
        db.setProperties(p);
        db.init();
        return db;
    }

    /** Kills or restarts the system on the data loaded last, and checks every key afterwards. */
    private void recovery(PeerSystem peer, YcsbRun.Settings settings, int recordBytes, PrintStream out)
            throws Exception {
        Map<String, String> properties = YcsbRun.baseProperties(settings, recordBytes);
        KeyNames names = KeyNames.of(properties);
        List<String> keys = new ArrayList<>();
        for (long i = 0; i < settings.records(); i++) {
            keys.add(names.key(i));
        }
        double recordMb = logicalRecordBytes(recordBytes, keys) / 1e6;
        String system = peer.name();
        switch (peer) {
            case RedisPeer redis when system.equals("redis-everysec") -> {
                RedisPeer.Restart aof = redis.restartOnAof();
                recoveryRows(system, "recovery-aof", recordBytes, aof.serviceMs(), aof.keys() * recordMb, out);
                RedisPeer.Restart rdb = redis.restartOnRdb();
                recoveryRows(system, "recovery-rdb", recordBytes, rdb.serviceMs(), rdb.keys() * recordMb, out);
            }
            case FerritePeer ferrite when system.equals(FERRITE_RECOVERY) -> {
                FerritePeer.MasterLoss loss = ferrite.killMasterAndRecover(keys.getFirst());
                recoveryRows(system, "recovery", recordBytes, loss.serviceMs(), loss.victimObjects() * recordMb, out);
                rows.add(new CompareRow(system, "recovery", recordBytes, "detect_ms", "ALL", loss.detectMs(), "ms"));
                lostRow(peer, "recovery", recordBytes, keys, out);
            }
            case HazelcastPeer hazelcast -> {
                MemberLoss loss = hazelcast.killOneMember(keys);
                recoveryRows(system, "recovery", recordBytes, loss.serviceMs(), loss.victimEntries() * recordMb, out);
                rows.add(new CompareRow(system, "recovery", recordBytes, "safe_ms", "ALL", loss.safeMs(), "ms"));
                lostRow(peer, "recovery", recordBytes, keys, out);
            }
            default -> { }
        }
    }

    /** Reads every key back after a crash; a missing one is a lost record (counted as a failure of the run). */
    private void lostRow(PeerSystem peer, String phase, int recordBytes, List<String> keys, PrintStream out)
            throws Exception {
        long found = forEachKey(peer, keys, (db, key) -> db.read(TABLE, key, null, new java.util.HashMap<>()));
        long lost = keys.size() - found;
        rows.add(new CompareRow(peer.name(), phase, recordBytes, "lost_keys", "ALL", lost, "count"));
        if (lost != 0) {
            failures++;
            out.printf("compare: %s LOST %d of %d records after the crash%n", peer.name(), lost, keys.size());
        }
    }

    private void recoveryRows(String system, String phase, int recordBytes, long serviceMs, double mb, PrintStream out) {
        double mbps = serviceMs == 0 ? Double.NaN : mb / (serviceMs / 1e3);
        rows.add(new CompareRow(system, phase, recordBytes, "service_ms", "ALL", serviceMs, "ms"));
        rows.add(new CompareRow(system, phase, recordBytes, "recovered_mb", "ALL", mb, "MB"));
        rows.add(new CompareRow(system, phase, recordBytes, "mb_per_s", "ALL", mbps, "MB/s"));
        out.printf("compare: %-14s %-12s %.1f MB serving again after %d ms (%.1f MB/s)%n", system, phase, mb,
                serviceMs, mbps);
    }

    /** Bytes of one record as every system receives it: the encoded fields and the mean key. */
    static double logicalRecordBytes(int recordBytes, List<String> keys) {
        Map<String, String> shape = YcsbRun.shape(recordBytes);
        int fields = Integer.parseInt(shape.get("fieldcount"));
        int length = Integer.parseInt(shape.get("fieldlength"));
        Map<String, ByteIterator> record = new LinkedHashMap<>();
        for (int f = 0; f < fields; f++) {
            record.put("field" + f, new ByteArrayByteIterator(new byte[length]));
        }
        double keyBytes = keys.stream().limit(10_000).mapToInt(String::length).average().orElse(0);
        return RecordCodec.encode(record).length + keyBytes;
    }

    private List<String> clientJvmFlags() {
        List<String> flags = new ArrayList<>(List.of("-Xmx1g", "--enable-native-access=ALL-UNNAMED"));
        flags.addAll(HazelcastPeer.JVM_FLAGS);
        if (smoke) {
            flags.add("-XX:TieredStopAtLevel=1");
        }
        return flags;
    }

    private void writeOutputs(Path json, YcsbRun.Settings settings, String servers, String clients, long startNs)
            throws IOException {
        String coreSharing = servers == null ? "unpinned: every process may run on every core"
                : "every system's processes (servers, members, and Ferrite's ZooKeeper and coordinator) pinned with"
                        + " taskset to CPU " + servers + " once started; the YCSB client JVM to CPU " + clients
                        + "; this driver (starting systems, W3, the reads after a crash) unpinned";
        Map<String, String> notes = new LinkedHashMap<>();
        notes.put("warm-up", "one unmeasured run of workload A on the first record size, after its load, on every"
                + " system; throughput is YCSB's own figure (operations over the run, its client's connection"
                + " set-up included)");
        notes.put("memory-load", "resident set growth over the empty system's, per record, right after the load;"
                + " data = Redis used_memory, Hazelcast heap used after a GC on every member (primary and backup"
                + " copies), Ferrite log memory held plus its hash table");
        notes.put("memory-w3", "FAST'14 W3 after the workloads: 90 % of the 100-byte records deleted at random and"
                + " written again with one 130-byte field");
        notes.put("recovery", "MB = records the lost process held (entries × key and encoded record bytes);"
                + " service = from the kill -9 (Redis: from the restart's exec) until they serve again: Redis"
                + " answers PING with every key loaded, Hazelcast reads every key back, Ferrite has every tablet"
                + " NORMAL on a live master and a read served (every key is read back afterwards: lost_keys)");
        ReportInfo info = ReportInfo.onThisMachine(commandLine(), Instant.ofEpochMilli(
                        ManagementFactory.getRuntimeMXBean().getStartTime()),
                Duration.ofNanos(System.nanoTime() - startNs), descriptions,
                new WorkloadSettings(settings.records(), settings.operations(), settings.threads(), recordSizes, 100,
                        notes), coreSharing);
        CompareReport.writeJson(rows, json);
        CompareReport.write(rows, info, reportDir);
    }

    private String commandLine() {
        return "./ferrite bench " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
    }

    /** The row kinds a run must have produced (the smoke's check). */
    private List<String> missingRows(List<String> run) {
        List<String> missing = new ArrayList<>();
        for (String system : run) {
            for (int recordBytes : recordSizes) {
                List<String> phases = new ArrayList<>(List.of("load"));
                phases.addAll(workloadsOf(system));
                for (String phase : phases) {
                    expect(missing, system, phase, recordBytes, "throughput");
                    expect(missing, system, phase, recordBytes, "p99");
                }
                if (MEMORY_SYSTEMS.contains(system)) {
                    expect(missing, system, "memory-load", recordBytes, "rss_per_record");
                    if (recordBytes == W3_RECORD_BYTES) {
                        expect(missing, system, "memory-w3", recordBytes, "rss_per_record");
                    }
                }
            }
            int last = recordSizes.getLast();
            switch (system) {
                case "redis-everysec" -> {
                    expect(missing, system, "recovery-aof", last, "mb_per_s");
                    expect(missing, system, "recovery-rdb", last, "mb_per_s");
                }
                case "hazelcast", FERRITE_RECOVERY -> {
                    expect(missing, system, "recovery", last, "mb_per_s");
                    expect(missing, system, "recovery", last, "lost_keys");
                }
                default -> { }
            }
        }
        return missing;
    }

    private void expect(List<String> missing, String system, String phase, int recordBytes, String metric) {
        if (rows.stream().noneMatch(r -> r.system().equals(system) && r.phase().equals(phase)
                && r.recordBytes() == recordBytes && r.metric().equals(metric))) {
            missing.add(system + "/" + phase + "/" + recordBytes + "/" + metric);
        }
    }
}
