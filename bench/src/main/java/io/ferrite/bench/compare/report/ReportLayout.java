package io.ferrite.bench.compare.report;

import java.util.List;

/**
 * What the report lays out, shared by the Markdown and the charts: the systems (every expected
 * one, measured or not, so an absent system shows as "—"), the YCSB record sizes and phases,
 * and the memory and recovery lines.
 */
record ReportLayout(List<String> systems, List<Integer> ycsbSizes, List<String> ycsbPhases,
                    List<String> memorySystems, List<MemoryLine> memoryLines, List<RecoveryLine> recoveryLines) {
    static ReportLayout of(Figures figures, ReportInfo info) {
        List<String> systems = figures.systems(Figures.SYSTEMS, info.systems().keySet(), row -> true);
        List<Integer> sizes = figures.recordSizes(info.workload().recordSizesBytes(),
                row -> Figures.isYcsb(row.phase()));
        List<String> phases = figures.phases(Figures.YCSB_PHASES, row -> Figures.isYcsb(row.phase()));
        List<String> memorySystems = figures.systems(Figures.MEMORY_SYSTEMS, List.of(),
                row -> Figures.isMemory(row.phase()));
        return new ReportLayout(systems, sizes, phases, memorySystems,
                MemoryLine.of(figures, info.workload().recordSizesBytes()), RecoveryLine.of(figures));
    }
}
