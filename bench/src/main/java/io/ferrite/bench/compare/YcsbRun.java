package io.ferrite.bench.compare;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One run of YCSB's own client ({@code site.ycsb.Client}, the load phase or a workload) in a
 * JVM of its own on the client cores, against a {@link PeerSystem}; its measurements (HDR
 * histograms, YCSB's text exporter) parsed into figures.
 */
public final class YcsbRun {
    /** YCSB's workload mixes by name (its {@code workloads/workload[abcf]} files' proportions) and write-only. */
    public static final Map<String, Map<String, String>> WORKLOADS = workloads();

    private static final Pattern LINE = Pattern.compile("^\\[([A-Z-]+)], ([^,]+), (.+)$");
    private static final Pattern PERCENTILE = Pattern.compile("^([0-9.]+)(?:st|nd|rd|th)?PercentileLatency\\(us\\)$");
    private static final Pattern STATUS = Pattern.compile(" (\\d+) sec: (\\d+) operations; ([0-9.,]+) current ops/sec");

    /** What one operation type measured. */
    public record OpFigures(long count, double p50Us, double p99Us, double p999Us, long errors) {
    }

    /** What a run measured: overall throughput and figures per operation type ({@code READ}, {@code UPDATE}, ...). */
    public record Result(double runtimeMs, double throughput, Map<String, OpFigures> ops) {
    }

    /** The client side of every run: JVM, cores, threads and record shape. */
    public record Settings(String javaHome, String classpath, List<String> jvmFlags, String clientCpus, int threads,
                           long records, long operations, String table, Path logDir) {
    }

    private YcsbRun() {
    }

    private static Map<String, Map<String, String>> workloads() {
        Map<String, Map<String, String>> w = new LinkedHashMap<>();
        w.put("A", mix("0.5", "0.5", "0"));
        w.put("B", mix("0.95", "0.05", "0"));
        w.put("C", mix("1", "0", "0"));
        w.put("F", mix("0.5", "0", "0.5"));
        w.put("write-only", mix("0", "1", "0"));
        return Map.copyOf(w);
    }

    private static Map<String, String> mix(String read, String update, String readModifyWrite) {
        return Map.of("readproportion", read, "updateproportion", update, "readmodifywriteproportion",
                readModifyWrite, "insertproportion", "0", "scanproportion", "0", "requestdistribution", "zipfian");
    }

    /**
     * The record shape of a record size: 1000 bytes is YCSB's default (10 fields of 100 B), any
     * other size one field of that many bytes.
     */
    public static Map<String, String> shape(int recordBytes) {
        return recordBytes == 1000 ? Map.of("fieldcount", "10", "fieldlength", "100")
                : Map.of("fieldcount", "1", "fieldlength", Integer.toString(recordBytes));
    }

    /** Every YCSB property of a run but the workload mix. */
    public static Map<String, String> baseProperties(Settings s, int recordBytes) {
        Map<String, String> p = new TreeMap<>(shape(recordBytes));
        p.put("workload", "site.ycsb.workloads.CoreWorkload");
        p.put("recordcount", Long.toString(s.records()));
        p.put("operationcount", Long.toString(s.operations()));
        p.put("table", s.table());
        p.put("readallfields", "true");
        p.put("writeallfields", "true");
        p.put("insertorder", "hashed");
        p.put("measurementtype", "hdrhistogram");
        p.put("hdrhistogram.percentiles", "50,99,99.9");
        p.put("status.interval", "1");
        return p;
    }

    /**
     * Runs {@code phase} ({@code load} or a key of {@link #WORKLOADS}) and parses its figures.
     *
     * @throws IOException if the client fails (its output's last lines are in the message)
     */
    public static Result run(Settings s, PeerSystem peer, String phase, int recordBytes, PrintStream progress)
            throws IOException, InterruptedException {
        return run(s, peer, phase, phase, recordBytes, progress);
    }

    /** As {@link #run(Settings, PeerSystem, String, int, PrintStream)}, named {@code label} in progress and logs. */
    public static Result run(Settings s, PeerSystem peer, String phase, String label, int recordBytes,
                             PrintStream progress) throws IOException, InterruptedException {
        Map<String, String> properties = baseProperties(s, recordBytes);
        boolean load = phase.equals("load");
        if (!load) {
            Map<String, String> mix = WORKLOADS.get(phase);
            if (mix == null) {
                throw new IllegalArgumentException("unknown workload " + phase + "; known: " + WORKLOADS.keySet());
            }
            properties.putAll(mix);
        }
        properties.putAll(peer.ycsbProperties());
        List<String> command = new ArrayList<>();
        command.add(Path.of(s.javaHome(), "bin", "java").toString());
        command.addAll(s.jvmFlags());
        command.addAll(List.of("-cp", s.classpath(), "site.ycsb.Client", load ? "-load" : "-t", "-db",
                peer.ycsbBinding(), "-threads", Integer.toString(s.threads()), "-s"));
        properties.forEach((k, v) -> {
            command.add("-p");
            command.add(k + "=" + v);
        });
        Path log = s.logDir().resolve(peer.name() + "-" + recordBytes + "-" + label + ".log");
        Process process = new ProcessBuilder(Procs.pinnedCommand(s.clientCpus(), command))
                .redirectError(ProcessBuilder.Redirect.PIPE).start();
        process.getOutputStream().close();
        long total = load ? s.records() : s.operations();
        String what = String.format("compare: %-14s %-10s %4d B", peer.name(), label, recordBytes);
        List<String> tail = new ArrayList<>();
        Thread status = Thread.ofVirtual().start(() -> relayStatus(process, what, total, progress, tail));
        List<String> out;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            out = reader.lines().toList();
        }
        if (!process.waitFor(60, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IOException(what + ": the YCSB client did not exit within 60 minutes");
        }
        status.join();
        java.nio.file.Files.write(log, concat(out, tail));
        if (process.exitValue() != 0) {
            throw new IOException(what + ": the YCSB client exited with status " + process.exitValue() + "; last lines:\n  "
                    + String.join("\n  ", lastLines(concat(out, tail), 15)) + "\n(whole output: " + log + ")");
        }
        Result result = parse(out);
        progress.printf("%s: %,.0f ops/s (%s)%n", what, result.throughput(), summary(result));
        return result;
    }

    private static String summary(Result r) {
        StringBuilder s = new StringBuilder();
        r.ops().forEach((op, f) -> s.append(s.isEmpty() ? "" : ", ").append(String.format("%s p50 %.0f / p99 %.0f us%s",
                op, f.p50Us(), f.p99Us(), f.errors() == 0 ? "" : ", " + f.errors() + " errors")));
        return s.toString();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        synchronized (b) {
            all.addAll(b);
        }
        return all;
    }

    private static List<String> lastLines(List<String> lines, int n) {
        return lines.subList(Math.max(0, lines.size() - n), lines.size());
    }

    /** Relays YCSB's status lines (stderr) as a progress line every 5 s; keeps every line for the log. */
    private static void relayStatus(Process process, String what, long total, PrintStream progress, List<String> keep) {
        long lastPrint = System.nanoTime();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                synchronized (keep) {
                    keep.add(line);
                }
                Matcher m = STATUS.matcher(line);
                if (m.find() && System.nanoTime() - lastPrint > TimeUnit.SECONDS.toNanos(5)) {
                    lastPrint = System.nanoTime();
                    long done = Long.parseLong(m.group(2));
                    progress.printf("%s: %,d / %,d ops (%d%%), %s ops/s now%n", what, done, total,
                            total == 0 ? 100 : done * 100 / total, m.group(3));
                }
            }
        } catch (IOException e) {
            progress.println(what + ": lost the client's status output: " + e.getMessage());
        }
    }

    /** Parses YCSB's text exporter output ({@code [OP], metric, value} lines). */
    static Result parse(List<String> lines) {
        double runtime = Double.NaN;
        double throughput = Double.NaN;
        Map<String, Map<String, String>> byOp = new LinkedHashMap<>();
        for (String line : lines) {
            Matcher m = LINE.matcher(line.strip());
            if (!m.matches()) {
                continue;
            }
            String op = m.group(1);
            String metric = m.group(2).strip();
            String value = m.group(3).strip();
            if (op.equals("OVERALL")) {
                if (metric.equals("RunTime(ms)")) {
                    runtime = Double.parseDouble(value);
                } else if (metric.equals("Throughput(ops/sec)")) {
                    throughput = Double.parseDouble(value);
                }
            } else if (!op.equals("CLEANUP") && !op.endsWith("-FAILED") && !op.startsWith("TOTAL_")) {
                byOp.computeIfAbsent(op, k -> new LinkedHashMap<>()).put(metric, value);
            }
        }
        if (Double.isNaN(throughput)) {
            throw new IllegalStateException("the YCSB output has no [OVERALL] throughput");
        }
        Map<String, OpFigures> ops = new LinkedHashMap<>();
        byOp.forEach((op, metrics) -> {
            double p50 = Double.NaN;
            double p99 = Double.NaN;
            double p999 = Double.NaN;
            long errors = 0;
            for (Map.Entry<String, String> e : metrics.entrySet()) {
                Matcher p = PERCENTILE.matcher(e.getKey());
                if (p.matches()) {
                    double v = Double.parseDouble(e.getValue());
                    switch (p.group(1)) {
                        case "50" -> p50 = v;
                        case "99" -> p99 = v;
                        case "99.9" -> p999 = v;
                        default -> { }
                    }
                } else if (e.getKey().startsWith("Return=") && !e.getKey().equals("Return=OK")) {
                    errors += Long.parseLong(e.getValue());
                }
            }
            long count = Long.parseLong(metrics.getOrDefault("Operations", "0"));
            ops.put(op, new OpFigures(count, p50, p99, p999, errors));
        });
        return new Result(runtime, throughput, ops);
    }

    /** The rows of a run. */
    public static List<CompareRow> rows(String system, String phase, int recordBytes, Result r) {
        List<CompareRow> rows = new ArrayList<>();
        rows.add(new CompareRow(system, phase, recordBytes, "throughput", "ALL", r.throughput(), "ops/s"));
        r.ops().forEach((op, f) -> {
            rows.add(new CompareRow(system, phase, recordBytes, "p50", op, f.p50Us(), "us"));
            rows.add(new CompareRow(system, phase, recordBytes, "p99", op, f.p99Us(), "us"));
            rows.add(new CompareRow(system, phase, recordBytes, "p999", op, f.p999Us(), "us"));
            rows.add(new CompareRow(system, phase, recordBytes, "errors", op, f.errors(), "count"));
        });
        return rows;
    }
}
