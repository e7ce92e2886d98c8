package io.ferrite.bench.compare.report;

import io.ferrite.bench.compare.CompareRow;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One line of the recovery table and one bar of the recovery chart: a system's recovery phase
 * at a record size ({@code recordBytes} 0 when nothing of it was measured).
 */
record RecoveryLine(String system, String phase, int recordBytes, String label) {
    static final List<String> METRICS = List.of("recovered_mb", "service_ms", "mb_per_s", "safe_ms", "detect_ms");

    private static final List<List<String>> EXPECTED = List.of(
            List.of("redis-everysec", "recovery-rdb"),
            List.of("redis-everysec", "recovery-aof"),
            List.of("hazelcast", "recovery"),
            List.of("ferrite-r1", "recovery"));

    /** The recoveries expected, then every other one the rows hold, each at every record size measured. */
    static List<RecoveryLine> of(Figures figures) {
        Set<List<String>> recoveries = new LinkedHashSet<>(EXPECTED);
        for (CompareRow row : figures.rows()) {
            if (Figures.isRecovery(row.phase())) {
                recoveries.add(List.of(row.system(), row.phase()));
            }
        }
        List<RecoveryLine> lines = new ArrayList<>();
        for (List<String> recovery : recoveries) {
            String system = recovery.get(0);
            String phase = recovery.get(1);
            List<Integer> sizes = figures.recordSizes(List.of(),
                    row -> row.system().equals(system) && row.phase().equals(phase));
            if (sizes.isEmpty()) {
                lines.add(new RecoveryLine(system, phase, 0, system + " " + phase));
            }
            for (int size : sizes) {
                String label = system + " " + phase + (sizes.size() > 1 ? " " + size + " B" : "");
                lines.add(new RecoveryLine(system, phase, size, label));
            }
        }
        return lines;
    }

    /** {@link #METRICS}, then every other metric of the recovery rows. */
    static List<String> metrics(Figures figures) {
        Set<String> metrics = new LinkedHashSet<>(METRICS);
        for (CompareRow row : figures.rows()) {
            if (Figures.isRecovery(row.phase())) {
                metrics.add(row.metric());
            }
        }
        return List.copyOf(metrics);
    }
}
