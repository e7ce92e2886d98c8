package io.ferrite.bench;

import io.ferrite.bench.workload.ResultTable;
import io.ferrite.bench.workload.ResultsJson;
import io.ferrite.bench.workload.RunConfig;
import io.ferrite.bench.workload.RunResult;
import io.ferrite.bench.workload.Workload;
import io.ferrite.bench.workload.WorkloadRunner;
import io.ferrite.master.EngineContext;
import io.ferrite.master.EngineStats;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code ./ferrite bench engine}: the changing-size workloads of the FAST'14 log-structured
 * memory paper, each at each live share, in one process, one fresh engine per run.
 */
@Command(name = "engine", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Runs the FAST'14 changing-size workloads (W1-W8) against the engine.",
            "%nOne fresh engine per (workload, live share): fill to live x memory, delete a share of the keys, "
                + "then write values of the 'after' sizes (W1: overwrite with 100 B) keeping live bytes at "
                + "live x memory, until key+value bytes written reach --written-multiple x memory. Prints a table "
                + "as it goes and writes JSON, one object per run (writesPerSec counts writes, not removes, over "
                + "the whole run).",
            "%nExit status: 0 ok, 1 a run failed with an error or its read-back check, 2 bad flags.", ""})
public final class EngineCommand implements Callable<Integer> {
    static final long QUICK_MEMORY_BYTES = 256L << 20;
    static final double DEFAULT_WRITTEN_MULTIPLE = 5.0;
    /** Writes of a quick run: 5x memory takes minutes at live 0.9 on two cores, so quick runs write 1x. */
    static final double QUICK_WRITTEN_MULTIPLE = 1.0;
    static final double MIN_LIVE = 0.1;
    static final double MAX_LIVE = 0.95;

    @Spec
    private CommandSpec spec;

    @Option(names = "--workload", paramLabel = "LIST", defaultValue = "all",
            description = "'all' or a comma list of W1..W8 (default: ${DEFAULT-VALUE}).")
    private String workloadList;

    @Option(names = "--json", paramLabel = "FILE", required = true, description = "Where to write the JSON results.")
    private Path jsonFile;

    @Option(names = "--quick", description = "256 MiB of memory (unless --memory is given) and writes of 1x memory "
            + "(unless --written-multiple is given): all workloads at the default live shares in about a minute.")
    private boolean quick;

    @Option(names = "--memory", paramLabel = "SIZE", converter = ByteSizeConverter.class,
            description = "Engine memory per run, e.g. 1g, 512m (default: 1g; 256m with --quick).")
    private Long memoryBytes;

    @Option(names = "--live", paramLabel = "U", split = ",", defaultValue = "0.5,0.9",
            description = "Comma list of live shares, each in 0.1-0.95 (default: ${DEFAULT-VALUE}).")
    private List<Double> liveShares;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the random choices (default: random; printed).")
    private Long seed;

    @Option(names = "--cleaner-threads", paramLabel = "N", defaultValue = "1",
            description = "Cleaner threads per engine, 1-64 (default: ${DEFAULT-VALUE}).")
    private int cleanerThreads;

    @Option(names = "--segment-size", paramLabel = "SIZE", converter = ByteSizeConverter.class, defaultValue = "8m",
            description = "Log segment size (default: ${DEFAULT-VALUE}).")
    private long segmentSizeBytes;

    @Option(names = "--written-multiple", paramLabel = "X",
            description = "Stop a run when key+value bytes written reach X x memory (default: 5).")
    private Double writtenMultiple;

    @Option(names = "--stall-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "Give up a run (completed=false) when one operation keeps getting RETRY this long "
                    + "(default: ${DEFAULT-VALUE}).")
    private int stallTimeoutSeconds;

    @Option(names = "--verify-samples", paramLabel = "N", defaultValue = "10000",
            description = "Live keys read back and checked after each run (default: ${DEFAULT-VALUE}).")
    private int verifySamples;

    @Override
    public Integer call() throws IOException {
        List<Workload> workloads = parseWorkloads();
        RunConfig config = validate();
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "ferrite engine benchmark: seed %d (replay with --seed %d)%n", config.seed(), config.seed());
        out.printf(Locale.ROOT, "memory %s, segments %s, %d cleaner thread(s), live %s, writes until %.2fx memory%s%n",
                bytes(config.memoryBytes()), bytes(config.segmentSizeBytes()), config.cleanerThreads(), liveShares,
                config.writtenMultiple(), quick ? " (quick)" : "");
        for (Workload workload : workloads) {
            out.println("  " + workload.describe());
        }
        ResultTable table = new ResultTable(out);
        table.header();
        List<RunResult> results = new ArrayList<>();
        int exitCode = 0;
        long startNs = System.nanoTime();
        for (Workload workload : workloads) {
            for (double live : liveShares) {
                RunResult result;
                try {
                    result = new WorkloadRunner(workload, live, config, System.err).run();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    System.err.println("interrupted; results so far are in " + jsonFile);
                    return 130;
                } catch (RuntimeException e) {
                    System.err.printf(Locale.ROOT, "%s live %.2f failed:%n", workload, live);
                    e.printStackTrace();
                    result = failed(workload, live, config, e);
                    exitCode = 1;
                }
                if (result.verification() != null && !result.verification().passed()) {
                    exitCode = 1;
                }
                results.add(result);
                table.row(result);
                ResultsJson.write(jsonFile, results);
            }
        }
        out.printf(Locale.ROOT, "total %.1f s for %d runs; JSON in %s%n", (System.nanoTime() - startNs) / 1e9,
                results.size(), jsonFile.toAbsolutePath());
        printFindings(out, results);
        return exitCode;
    }

    private List<Workload> parseWorkloads() {
        try {
            return Workload.parseList(workloadList);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--workload: " + e.getMessage());
        }
    }

    private RunConfig validate() {
        for (double live : liveShares) {
            if (!(live >= MIN_LIVE && live <= MAX_LIVE)) {
                throw new ParameterException(spec.commandLine(), String.format(Locale.ROOT,
                        "--live: %s is outside %.2f-%.2f", live, MIN_LIVE, MAX_LIVE));
            }
        }
        if (cleanerThreads < 1 || cleanerThreads > 64) {
            throw new ParameterException(spec.commandLine(), "--cleaner-threads: " + cleanerThreads
                    + " is outside 1-64 (without a cleaner the runs could only stall)");
        }
        if (segmentSizeBytes > Integer.MAX_VALUE) {
            throw new ParameterException(spec.commandLine(), "--segment-size: " + segmentSizeBytes + " is too large");
        }
        double multiple = writtenMultiple != null ? writtenMultiple
                : quick ? QUICK_WRITTEN_MULTIPLE : DEFAULT_WRITTEN_MULTIPLE;
        if (!(multiple > 0 && multiple <= 1000)) {
            throw new ParameterException(spec.commandLine(), "--written-multiple: " + multiple + " is outside (0, 1000]");
        }
        if (stallTimeoutSeconds < 1) {
            throw new ParameterException(spec.commandLine(), "--stall-timeout: must be at least 1 second");
        }
        if (verifySamples < 0) {
            throw new ParameterException(spec.commandLine(), "--verify-samples: must not be negative");
        }
        long memory = memoryBytes != null ? memoryBytes
                : quick ? QUICK_MEMORY_BYTES : EngineContext.DEFAULT_MEMORY_BYTES;
        long runSeed = seed != null ? seed : ThreadLocalRandom.current().nextLong();
        RunConfig config = new RunConfig(memory, (int) segmentSizeBytes, cleanerThreads, multiple, runSeed,
                TimeUnit.SECONDS.toNanos(stallTimeoutSeconds), verifySamples);
        try {
            config.engineContext();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "engine configuration rejected: " + e.getMessage());
        }
        return config;
    }

    private static RunResult failed(Workload workload, double live, RunConfig config, RuntimeException e) {
        return new RunResult(workload, live, config.runSeed(workload, live), config.memoryBytes(),
                config.writtenMultiple(), false, e.toString(), new RunResult.Counts(0, 0, 0, 0, 0, 0, 0, 0),
                new RunResult.Timing(0, 0, 0, 0), null, null);
    }

    /** Points out figures that look like engine problems. */
    private static void printFindings(PrintStream out, List<RunResult> results) {
        List<String> findings = new ArrayList<>();
        for (RunResult r : results) {
            String name = String.format(Locale.ROOT, "%s live %.2f", r.workload(), r.liveShare());
            if (!r.completed()) {
                findings.add(name + ": did not complete: " + r.error());
            }
            if (r.verification() != null && !r.verification().passed()) {
                findings.add(name + ": read-back check failed (" + r.verification().mismatches() + " keys), first: "
                        + r.verification().firstMismatch());
            }
            EngineStats s = r.stats();
            if (s == null) {
                continue;
            }
            if (r.liveShare() >= 0.9 && s.logUtilization() < 0.9) {
                findings.add(String.format(Locale.ROOT, "%s: log utilization %.3f < 0.9", name, s.logUtilization()));
            }
            if (r.liveShare() >= 0.8 && r.workload().ordinal() <= Workload.W5.ordinal() && s.memoryPerLiveByte() > 1.5) {
                findings.add(String.format(Locale.ROOT, "%s: %.3f bytes of memory per live byte > 1.5", name,
                        s.memoryPerLiveByte()));
            }
            if (s.indexBytesPerObject() > 16) {
                findings.add(String.format(Locale.ROOT, "%s: %.1f index bytes per object > 16 (%d objects, %s of index)",
                        name, s.indexBytesPerObject(), s.liveObjects(), bytes(s.hashTableBytes())));
            }
            if (r.counts().maxStallNs() >= TimeUnit.SECONDS.toNanos(1)) {
                findings.add(String.format(Locale.ROOT, "%s: an operation got RETRY for %.1f s (%d retries in all)",
                        name, r.counts().maxStallNs() / 1e9, r.counts().retries()));
            }
        }
        for (RunResult high : results) {
            for (RunResult low : results) {
                if (high.workload() == low.workload() && high.liveShare() > low.liveShare() && high.stats() != null
                        && low.stats() != null && high.writesPerSec() < 0.5 * low.writesPerSec()) {
                    findings.add(String.format(Locale.ROOT, "%s: %,.0f writes/s at live %.2f is under half of %,.0f at %.2f",
                            high.workload(), high.writesPerSec(), high.liveShare(), low.writesPerSec(), low.liveShare()));
                }
            }
        }
        if (findings.isEmpty()) {
            out.println("findings: none");
        } else {
            out.println("findings:");
            for (String finding : findings) {
                out.println("  - " + finding);
            }
        }
    }

    private static String bytes(long n) {
        if (n >= 1L << 30 && n % (1L << 30) == 0) {
            return (n >> 30) + " GiB";
        }
        if (n >= 1L << 20) {
            return String.format(Locale.ROOT, n % (1L << 20) == 0 ? "%.0f MiB" : "%.1f MiB", n / (double) (1L << 20));
        }
        return n + " B";
    }
}
