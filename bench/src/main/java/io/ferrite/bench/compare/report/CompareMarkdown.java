package io.ferrite.bench.compare.report;

import io.ferrite.bench.compare.CompareRow;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders {@code compare.md}: what was run, the targets table, then every figure in tables, each
 * section followed by its chart. Every number comes from the rows or the {@link ReportInfo}.
 */
final class CompareMarkdown {
    private static final String MISSING = FigureFormat.MISSING;
    private static final DateTimeFormatter START =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final Map<String, String> RECOVERY_HEADERS = Map.of(
            "recovered_mb", "Recovered (MB)",
            "service_ms", "To full service (ms)",
            "mb_per_s", "MB/s to full service",
            "safe_ms", "To re-backed-up (ms)",
            "detect_ms", "Failure detected (ms)");

    private final Figures figures;
    private final ReportInfo info;
    private final ReportLayout layout;
    private final StringBuilder md = new StringBuilder(16 * 1024);

    private CompareMarkdown(Figures figures, ReportInfo info, ReportLayout layout) {
        this.figures = figures;
        this.info = info;
        this.layout = layout;
    }

    static String render(Figures figures, ReportInfo info, ReportLayout layout, List<Targets.Result> targets) {
        CompareMarkdown report = new CompareMarkdown(figures, info, layout);
        report.title();
        report.whatWasRun();
        report.targets(targets);
        report.throughput();
        report.latency();
        report.errors();
        report.memory();
        report.recovery();
        return report.md.toString();
    }

    private void title() {
        line("# bench compare: Ferrite against Redis and Hazelcast under YCSB");
        line();
        line("Every figure below was measured in this run and comes from its rows; " + MISSING
                + " marks a figure that was not measured (a system that did not start, a phase that failed).");
        line();
    }

    private void whatWasRun() {
        line("## What was run");
        line();
        line("```");
        line(info.commandLine());
        line("```");
        line();
        line("- Started: " + START.format(info.start().truncatedTo(ChronoUnit.SECONDS)) + ", took "
                + duration(info.duration()));
        line("- Machine: " + info.machine().describe());
        line("- JDK of the benchmark: " + info.machine().jdk());
        line("- Cores: " + oneLine(info.coreSharing()));
        WorkloadSettings w = info.workload();
        line(String.format(Locale.ROOT, "- YCSB: %,d records per record size, %,d operations per workload, "
                + "%d client threads", w.records(), w.operationsPerWorkload(), w.clientThreads()));
        List<String> sizes = new ArrayList<>();
        for (int size : w.recordSizesBytes()) {
            int fields = size / w.fieldLengthBytes();
            sizes.add(String.format(Locale.ROOT, "%d B (%d field%s × %d B)", size, fields, fields == 1 ? "" : "s",
                    w.fieldLengthBytes()));
        }
        line("- Record sizes: " + (sizes.isEmpty() ? MISSING : String.join(", ", sizes)));
        for (Map.Entry<String, String> note : w.phaseNotes().entrySet()) {
            line("- `" + note.getKey() + "`: " + oneLine(note.getValue()));
        }
        line();
        line("| System | Version and settings |");
        line("|---|---|");
        for (String system : layout.systems()) {
            String description = info.systems().get(system);
            line("| " + system + " | " + (description == null ? MISSING : cell(description)) + " |");
        }
        line();
    }

    private void targets(List<Targets.Result> results) {
        int met = 0;
        int missed = 0;
        for (Targets.Result r : results) {
            met += r.verdict() == Targets.Verdict.MET ? 1 : 0;
            missed += r.verdict() == Targets.Verdict.MISSED ? 1 : 0;
        }
        line("## Targets");
        line();
        line(String.format(Locale.ROOT, "%d of %d met, %d missed, %d not measured.", met, results.size(), missed,
                results.size() - met - missed));
        line();
        line("| Area | Target | Record | Ferrite | Reference | Measured ratio | Verdict | Note |");
        line("|---|---|--:|--:|--:|--:|---|---|");
        for (Targets.Result r : results) {
            Targets.Target t = r.target();
            line("| " + t.area() + " | " + t.label() + " | " + (r.recordBytes() == 0 ? MISSING : r.recordBytes() + " B")
                    + " | " + FigureFormat.cell(r.subject()) + " | " + FigureFormat.cell(r.reference()) + " | "
                    + FigureFormat.ratio(r.subjectValue(), r.referenceValue()) + " | " + r.verdict().text + " | "
                    + errorNote(t, r.recordBytes()) + " |");
        }
        line();
    }

    /** "errors: ferrite-r2 12" when either side of a YCSB target counted errors in its phase. */
    private String errorNote(Targets.Target t, int recordBytes) {
        List<String> notes = new ArrayList<>();
        if (Figures.isYcsb(t.phase())) {
            double subject = figures.errors(t.system(), t.phase(), recordBytes);
            double reference = figures.errors(t.reference(), t.referencePhase(), recordBytes);
            if (subject > 0) {
                notes.add(t.system() + " " + FigureFormat.format(subject, "count"));
            }
            if (reference > 0) {
                notes.add(t.reference() + " " + FigureFormat.format(reference, "count"));
            }
        }
        return notes.isEmpty() ? "" : "errors: " + String.join(", ", notes);
    }

    private void throughput() {
        line("## Throughput (ops/s)");
        line();
        for (int size : layout.ycsbSizes()) {
            line("### " + size + "-byte records");
            line();
            header("Workload", layout.systems());
            for (String phase : layout.ycsbPhases()) {
                StringBuilder row = new StringBuilder("| `" + phase + "` |");
                for (String system : layout.systems()) {
                    row.append(' ').append(FigureFormat.cell(
                            figures.find(system, phase, size, Figures.THROUGHPUT, Figures.ALL))).append(" |");
                }
                line(row.toString());
            }
            line();
            image("Throughput, " + size + "-byte records", CompareCharts.throughputFile(size));
        }
    }

    private void latency() {
        line("## Latency (µs)");
        line();
        for (int size : layout.ycsbSizes()) {
            line("### " + size + "-byte records");
            line();
            for (String metric : Figures.LATENCIES) {
                line("**" + metric + "**");
                line();
                opTable(size, metric);
            }
            image("p99 latency, " + size + "-byte records", CompareCharts.p99File(size));
        }
    }

    private void errors() {
        line("## Errors");
        line();
        for (int size : layout.ycsbSizes()) {
            int counted = 0;
            double total = 0;
            for (CompareRow row : figures.rows()) {
                if (row.metric().equals(Figures.ERRORS) && row.recordBytes() == size && Figures.isYcsb(row.phase())) {
                    counted++;
                    total += row.value();
                }
            }
            if (counted == 0) {
                line(size + "-byte records: no error counts were recorded.");
                line();
            } else if (total == 0) {
                line(String.format(Locale.ROOT, "%d-byte records: all %d error counts (system × workload × "
                        + "operation) are 0.", size, counted));
                line();
            } else {
                line("### " + size + "-byte records (errors per operation)");
                line();
                opTable(size, Figures.ERRORS);
            }
        }
    }

    /** Rows (phase, op) of {@code metric} at one record size, a column per system. */
    private void opTable(int size, String metric) {
        header("Workload | Operation", layout.systems());
        int lines = 0;
        for (String phase : layout.ycsbPhases()) {
            for (String op : figures.ops(phase, size, metric)) {
                StringBuilder row = new StringBuilder("| `" + phase + "` | " + op + " |");
                for (String system : layout.systems()) {
                    row.append(' ').append(FigureFormat.cell(figures.find(system, phase, size, metric, op)))
                            .append(" |");
                }
                line(row.toString());
                lines++;
            }
        }
        if (lines == 0) {
            StringBuilder row = new StringBuilder("| " + MISSING + " | " + MISSING + " |");
            for (int i = 0; i < layout.systems().size(); i++) {
                row.append(' ').append(MISSING).append(" |");
            }
            line(row.toString());
        }
        line();
    }

    private void memory() {
        line("## Memory (bytes per record)");
        line();
        line("rss: resident set of every server process; data: the system's own account of what it holds.");
        line();
        header("Phase | Record | Figure", layout.memorySystems());
        for (MemoryLine m : layout.memoryLines()) {
            StringBuilder row = new StringBuilder(
                    "| `" + m.phase() + "` | " + m.recordBytes() + " B | " + m.metric() + " |");
            for (String system : layout.memorySystems()) {
                row.append(' ').append(FigureFormat.cell(
                        figures.find(system, m.phase(), m.recordBytes(), m.metric(), Figures.ALL))).append(" |");
            }
            line(row.toString());
        }
        line();
        image("Memory per record", CompareCharts.MEMORY_FILE);
    }

    private void recovery() {
        line("## Recovery");
        line();
        List<String> metrics = RecoveryLine.metrics(figures);
        List<String> headers = new ArrayList<>();
        for (String metric : metrics) {
            headers.add(RECOVERY_HEADERS.getOrDefault(metric, metric));
        }
        header("System | Recovery | Record", headers);
        for (RecoveryLine r : layout.recoveryLines()) {
            StringBuilder row = new StringBuilder("| " + r.system() + " | `" + r.phase() + "` | "
                    + (r.recordBytes() == 0 ? MISSING : r.recordBytes() + " B") + " |");
            for (String metric : metrics) {
                CompareRow figure = r.recordBytes() == 0 ? null
                        : figures.find(r.system(), r.phase(), r.recordBytes(), metric, Figures.ALL);
                row.append(' ').append(FigureFormat.cell(figure)).append(" |");
            }
            line(row.toString());
        }
        line();
        image("Recovery: MB/s and time to full service", CompareCharts.RECOVERY_FILE);
    }

    /** A table header: the leading columns (" | "-separated, left-aligned), then right-aligned ones. */
    private void header(String leading, List<String> columns) {
        int leadingCount = leading.split(" \\| ").length;
        StringBuilder names = new StringBuilder("| " + leading + " |");
        StringBuilder rule = new StringBuilder("|");
        rule.append("---|".repeat(leadingCount));
        for (String column : columns) {
            names.append(' ').append(cell(column)).append(" |");
            rule.append("--:|");
        }
        line(names.toString());
        line(rule.toString());
    }

    private void image(String alt, String file) {
        line("![" + alt + "](" + file + ")");
        line();
    }

    private void line(String text) {
        md.append(text).append('\n');
    }

    private void line() {
        md.append('\n');
    }

    private static String duration(Duration d) {
        long seconds = d.toSeconds();
        return seconds >= 3600
                ? String.format(Locale.ROOT, "%d h %02d min %02d s", seconds / 3600, seconds / 60 % 60, seconds % 60)
                : String.format(Locale.ROOT, "%d min %02d s", seconds / 60, seconds % 60);
    }

    private static String oneLine(String text) {
        return text.replace('\n', ' ').replace('\r', ' ').strip();
    }

    private static String cell(String text) {
        return oneLine(text).replace("|", "\\|");
    }
}
