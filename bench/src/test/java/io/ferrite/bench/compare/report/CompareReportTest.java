package io.ferrite.bench.compare.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ferrite.bench.compare.CompareRow;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report from FAKE rows: every figure here is a round number made up so that each target is
 * met or missed on purpose; nothing was measured. Checks the targets' verdicts, that every
 * chart is a valid PNG, that absent systems and rows render as "—", and the JSON round trip.
 */
class CompareReportTest {
    private static final List<String> ALL_SYSTEMS =
            List.of("redis-everysec", "redis-always", "hazelcast", "ferrite-r0", "ferrite-r1", "ferrite-r2");
    private static final Map<String, List<String>> OPS_OF_PHASE = new LinkedHashMap<>();

    static {
        OPS_OF_PHASE.put("load", List.of("INSERT"));
        OPS_OF_PHASE.put("A", List.of("READ", "UPDATE"));
        OPS_OF_PHASE.put("B", List.of("READ", "UPDATE"));
        OPS_OF_PHASE.put("C", List.of("READ"));
        OPS_OF_PHASE.put("F", List.of("READ", "UPDATE", "READ-MODIFY-WRITE"));
        OPS_OF_PHASE.put("write-only", List.of("UPDATE"));
    }

    @TempDir
    Path dir;

    @Test
    void targetsTableGivesTheVerdictTheFakeRowsWereBuiltFor() throws IOException {
        CompareReport.write(fakeRows(Set.copyOf(ALL_SYSTEMS)), info(ALL_SYSTEMS), dir);
        String md = Files.readString(dir.resolve(CompareReport.MARKDOWN_FILE));

        assertThat(verdict(md, "ferrite-r0 `C` throughput ≥ 1 × redis-everysec", "1000 B")).isEqualTo("met");
        assertThat(verdict(md, "ferrite-r0 `C` throughput ≥ 1 × hazelcast", "1000 B")).isEqualTo("met");
        assertThat(verdict(md, "ferrite-r0 `C` throughput ≥ 1 × redis-everysec", "100 B")).isEqualTo("missed");
        assertThat(verdict(md, "ferrite-r0 `C` throughput ≥ 1 × hazelcast", "100 B")).isEqualTo("missed");
        for (String size : List.of("1000 B", "100 B")) {
            assertThat(verdict(md, "ferrite-r2 `A` throughput ≥ 1 × redis-always", size)).isEqualTo("met");
            assertThat(verdict(md, "ferrite-r2 `A` UPDATE p99 ≤ 1 × redis-always", size)).isEqualTo("met");
        }
        String writeOnlyThroughput = "ferrite-r2 `write-only` throughput ≥ 1 × redis-always";
        String writeOnlyP99 = "ferrite-r2 `write-only` UPDATE p99 ≤ 1 × redis-always";
        assertThat(verdict(md, writeOnlyThroughput, "1000 B")).isEqualTo("missed");
        assertThat(verdict(md, writeOnlyThroughput, "100 B")).isEqualTo("met");
        assertThat(verdict(md, writeOnlyP99, "1000 B")).isEqualTo("met");
        assertThat(verdict(md, writeOnlyP99, "100 B")).isEqualTo("missed");
        assertThat(verdict(md, "ferrite-r0 `memory-w3` rss_per_record ≤ 0.6 × redis-everysec", "100 B"))
                .isEqualTo("met");
        assertThat(verdict(md, "ferrite-r0 `memory-w3` rss_per_record < hazelcast", "100 B")).isEqualTo("met");
        assertThat(verdict(md, "ferrite-r1 `recovery` mb_per_s ≥ 3 × redis-everysec `recovery-rdb`", "1000 B"))
                .isEqualTo("met");
        assertThat(verdict(md, "ferrite-r1 `recovery` mb_per_s > hazelcast", "1000 B")).isEqualTo("missed");
        assertThat(md).contains("11 of 16 met, 5 missed, 0 not measured.");
        // the measured ratio and the figures come from the rows
        assertThat(targetLine(md, "ferrite-r0 `C` throughput ≥ 1 × redis-everysec", "1000 B"))
                .contains("| 120,000 | 100,000 | 1.20× |");
        // ferrite-r2 counted errors in A (1000 B): a note on its targets there, and an errors table
        // for 1000 B instead of the all-zero line
        assertThat(targetLine(md, "ferrite-r2 `A` throughput ≥ 1 × redis-always", "1000 B"))
                .endsWith("| met | errors: ferrite-r2 7 |");
        assertThat(md).contains("100-byte records: all 60 error counts")
                .contains("### 1000-byte records (errors per operation)");
        assertEveryChartIsAPng(List.of(1000, 100));
    }

    @Test
    void absentSystemsRenderAsDashesAndTheirTargetsAsNotMeasured() throws IOException {
        List<String> present = List.of("redis-everysec", "ferrite-r0", "ferrite-r1", "ferrite-r2");
        CompareReport.write(fakeRows(Set.copyOf(present)), info(present), dir);
        String md = Files.readString(dir.resolve(CompareReport.MARKDOWN_FILE));

        // throughput of C at 1000 B: redis-always and hazelcast did not run
        assertThat(md).contains("| `C` | 100,000 | — | — | 120,000 | 60,000 | 30,000 |");
        assertThat(md).contains("| redis-always | — |").contains("| hazelcast | — |");
        assertThat(verdict(md, "ferrite-r0 `C` throughput ≥ 1 × hazelcast", "1000 B")).isEqualTo("not measured");
        assertThat(verdict(md, "ferrite-r2 `A` throughput ≥ 1 × redis-always", "100 B")).isEqualTo("not measured");
        assertThat(verdict(md, "ferrite-r1 `recovery` mb_per_s > hazelcast", "1000 B")).isEqualTo("not measured");
        assertThat(verdict(md, "ferrite-r0 `C` throughput ≥ 1 × redis-everysec", "1000 B")).isEqualTo("met");
        assertThat(targetLine(md, "ferrite-r2 `A` throughput ≥ 1 × redis-always", "100 B"))
                .contains("| 30,000 | — | — | not measured |");
        assertEveryChartIsAPng(List.of(1000, 100));
    }

    @Test
    void noRowsAtAllStillGiveAReportAndEveryChart() throws IOException {
        List<Path> written = CompareReport.write(List.of(), info(List.of()), dir);
        String md = Files.readString(dir.resolve(CompareReport.MARKDOWN_FILE));

        assertThat(md).contains("0 of 16 met, 0 missed, 16 not measured.");
        assertThat(verdict(md, "ferrite-r1 `recovery` mb_per_s > hazelcast", "—")).isEqualTo("not measured");
        assertThat(written).hasSize(7);
        assertEveryChartIsAPng(List.of(1000, 100));
    }

    @Test
    void jsonRoundTripsEveryRow() throws IOException {
        List<CompareRow> rows = new ArrayList<>(fakeRows(Set.copyOf(ALL_SYSTEMS)));
        rows.add(new CompareRow("ferrite-r1", "A", 100, "p999", "UPDATE", 1234.125, "us"));
        rows.add(new CompareRow("hazelcast", "recovery", 1000, "detect_ms", "ALL", Double.NaN, "ms"));
        Path file = dir.resolve("out/compare.json");

        CompareReport.writeJson(rows, file);

        assertThat(CompareReport.readJson(file)).containsExactlyElementsOf(rows);
        assertThat(Files.readAllLines(file)).first().isEqualTo("[");
        assertThat(dir.resolve("out")).isDirectoryNotContaining("glob:**.tmp");
        CompareReport.writeJson(List.of(), file);
        assertThat(CompareReport.readJson(file)).isEmpty();
    }

    @Test
    void readJsonNamesTheLineItCannotParse() throws IOException {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, "[\n" + new CompareRow("a", "A", 100, "p99", "READ", 1, "us").toJson()
                + ",\n{\"system\":\"a\"}\n]\n");

        assertThatThrownBy(() -> CompareReport.readJson(file)).isInstanceOf(IOException.class)
                .hasMessageContaining("bad.json:3:");
    }

    private void assertEveryChartIsAPng(List<Integer> sizes) throws IOException {
        List<String> charts = new ArrayList<>(List.of("compare-memory.png", "compare-recovery.png"));
        for (int size : sizes) {
            charts.add("compare-throughput-" + size + ".png");
            charts.add("compare-p99-" + size + ".png");
        }
        String md = Files.readString(dir.resolve(CompareReport.MARKDOWN_FILE));
        for (String chart : charts) {
            Path png = dir.resolve(chart);
            assertThat(png).exists();
            BufferedImage image = ImageIO.read(png.toFile());
            assertThat(image).as(chart).isNotNull();
            assertThat(image.getWidth()).as(chart).isPositive();
            assertThat(md).contains("](" + chart + ")");
        }
    }

    /** The verdict cell of the target line with that label and record size. */
    private static String verdict(String md, String label, String size) {
        String[] cells = targetLine(md, label, size).split("\\|");
        return cells[7].strip();
    }

    private static String targetLine(String md, String label, String size) {
        for (String line : md.split("\n")) {
            String[] cells = line.split("\\|");
            if (cells.length > 8 && cells[2].strip().equals(label) && cells[3].strip().equals(size)) {
                return line;
            }
        }
        throw new AssertionError("no target line " + label + " at " + size + " in\n" + md);
    }

    private static ReportInfo info(List<String> systems) {
        Map<String, String> descriptions = new LinkedHashMap<>();
        for (String system : systems) {
            descriptions.put(system, "FAKE " + system + " | settings");
        }
        MachineFacts machine = new MachineFacts("FAKE CPU", 2, 2, 8L << 30, "Linux FAKE", "FAKE JDK");
        WorkloadSettings workload = new WorkloadSettings(1000, 2000, 4, List.of(1000, 100), 100,
                Map.of("memory-w3", "FAKE note"));
        return new ReportInfo("./ferrite bench compare --fake", Instant.parse("2026-01-02T03:04:05Z"),
                Duration.ofSeconds(3725), machine, descriptions, workload, "FAKE core sharing");
    }

    /**
     * FAKE rows for the given systems. Defaults: throughput redis-everysec 100,000, redis-always
     * 20,000, hazelcast 50,000, ferrite-r0 120,000, ferrite-r1 60,000, ferrite-r2 30,000 ops/s;
     * p99 200, 3,000, 900, 150, 400, 800 µs. Overrides make C at 100 B miss both read targets,
     * write-only miss throughput at 1000 B and p99 at 100 B, and hazelcast's recovery beat Ferrite's.
     * Errors are 0 but for ferrite-r2's UPDATEs in A at 1000 B (7).
     */
    private static List<CompareRow> fakeRows(Set<String> systems) {
        Map<String, double[]> base = Map.of(
                "redis-everysec", new double[] {100_000, 200},
                "redis-always", new double[] {20_000, 3_000},
                "hazelcast", new double[] {50_000, 900},
                "ferrite-r0", new double[] {120_000, 150},
                "ferrite-r1", new double[] {60_000, 400},
                "ferrite-r2", new double[] {30_000, 800});
        List<CompareRow> rows = new ArrayList<>();
        for (String system : ALL_SYSTEMS) {
            if (!systems.contains(system)) {
                continue;
            }
            for (int size : List.of(1000, 100)) {
                for (Map.Entry<String, List<String>> phase : OPS_OF_PHASE.entrySet()) {
                    String p = phase.getKey();
                    double throughput = base.get(system)[0];
                    if (p.equals("C") && size == 100 && system.equals("ferrite-r0")) {
                        throughput = 90_000;
                    } else if (p.equals("C") && size == 100 && system.equals("hazelcast")) {
                        throughput = 95_000;
                    } else if (p.equals("write-only") && size == 1000 && system.equals("ferrite-r2")) {
                        throughput = 15_000;
                    }
                    rows.add(new CompareRow(system, p, size, "throughput", "ALL", throughput, "ops/s"));
                    for (String op : phase.getValue()) {
                        double p99 = base.get(system)[1];
                        if (p.equals("write-only") && size == 100 && system.equals("ferrite-r2")) {
                            p99 = 5_000;
                        }
                        rows.add(new CompareRow(system, p, size, "p50", op, p99 / 4, "us"));
                        rows.add(new CompareRow(system, p, size, "p99", op, p99, "us"));
                        rows.add(new CompareRow(system, p, size, "p999", op, p99 * 3, "us"));
                        boolean failing = system.equals("ferrite-r2") && p.equals("A") && op.equals("UPDATE");
                        double errors = failing && size == 1000 ? 7 : 0;
                        rows.add(new CompareRow(system, p, size, "errors", op, errors, "count"));
                    }
                }
            }
        }
        Map<String, Double> rss = Map.of("redis-everysec", 200.0, "hazelcast", 400.0, "ferrite-r0", 100.0);
        for (Map.Entry<String, Double> m : rss.entrySet()) {
            if (systems.contains(m.getKey())) {
                for (String[] phaseSize : new String[][] {{"memory-load", "1000"}, {"memory-load", "100"},
                        {"memory-w3", "100"}}) {
                    int size = Integer.parseInt(phaseSize[1]);
                    rows.add(new CompareRow(m.getKey(), phaseSize[0], size, "rss_per_record", "ALL", m.getValue(),
                            "bytes"));
                    rows.add(new CompareRow(m.getKey(), phaseSize[0], size, "data_per_record", "ALL",
                            m.getValue() * 0.8, "bytes"));
                }
            }
        }
        recovery(rows, systems, "redis-everysec", "recovery-rdb", 100, Map.of());
        recovery(rows, systems, "redis-everysec", "recovery-aof", 50, Map.of());
        recovery(rows, systems, "hazelcast", "recovery", 500, Map.of("safe_ms", 4_000.0));
        recovery(rows, systems, "ferrite-r1", "recovery", 400, Map.of("detect_ms", 150.0));
        return rows;
    }

    private static void recovery(List<CompareRow> rows, Set<String> systems, String system, String phase,
                                 double mbPerS, Map<String, Double> extra) {
        if (!systems.contains(system)) {
            return;
        }
        double recoveredMb = 1000;
        rows.add(new CompareRow(system, phase, 1000, "recovered_mb", "ALL", recoveredMb, "MB"));
        rows.add(new CompareRow(system, phase, 1000, "service_ms", "ALL", recoveredMb / mbPerS * 1000, "ms"));
        rows.add(new CompareRow(system, phase, 1000, "mb_per_s", "ALL", mbPerS, "MB/s"));
        extra.forEach((metric, value) -> rows.add(new CompareRow(system, phase, 1000, metric, "ALL", value, "ms")));
    }
}
