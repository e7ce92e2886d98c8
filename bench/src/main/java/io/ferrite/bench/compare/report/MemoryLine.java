package io.ferrite.bench.compare.report;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One line of the memory table and one group of the memory chart: a memory phase, a record
 * size and a figure ({@code rss_per_record} or {@code data_per_record}).
 */
record MemoryLine(String phase, int recordBytes, String metric) {
    static final List<String> METRICS = List.of("rss_per_record", "data_per_record");
    /** The W3 pattern refills small records only. */
    static final int W3_RECORD_BYTES = 100;

    /** "w3, 100 B rss" for the chart. */
    String shortLabel() {
        String name = phase.startsWith("memory-") ? phase.substring("memory-".length()) : phase;
        String figure = metric.endsWith("_per_record") ? metric.substring(0, metric.length() - "_per_record".length())
                : metric;
        return name + ", " + recordBytes + " B " + figure;
    }

    /**
     * The lines expected (each memory phase at the declared record sizes, W3 at
     * {@value #W3_RECORD_BYTES} B, rss and data), then every other one the rows hold.
     */
    static List<MemoryLine> of(Figures figures, Collection<Integer> declaredSizes) {
        List<MemoryLine> lines = new ArrayList<>();
        for (String phase : figures.phases(Figures.MEMORY_PHASES, row -> Figures.isMemory(row.phase()))) {
            List<Integer> expected = phase.equals("memory-w3") ? List.of(W3_RECORD_BYTES)
                    : phase.equals("memory-load") ? List.copyOf(declaredSizes) : List.of();
            for (int size : figures.recordSizes(expected, row -> row.phase().equals(phase))) {
                Set<String> metrics = new LinkedHashSet<>(METRICS);
                for (var row : figures.rows()) {
                    if (row.phase().equals(phase) && row.recordBytes() == size) {
                        metrics.add(row.metric());
                    }
                }
                for (String metric : metrics) {
                    lines.add(new MemoryLine(phase, size, metric));
                }
            }
        }
        return lines;
    }
}
