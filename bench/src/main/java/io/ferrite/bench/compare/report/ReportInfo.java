package io.ferrite.bench.compare.report;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a comparison ran, where and how, for the "what was run" part of the report.
 *
 * @param commandLine the exact command line of the run
 * @param start       when the run started
 * @param duration    how long the run took
 * @param machine     the machine and JVM
 * @param systems     system name (e.g. {@code redis-always}) to one line of its version and settings, in
 *                    report order; a system that failed to start may be absent
 * @param workload    the YCSB settings
 * @param coreSharing how the cores were shared between servers and the YCSB client
 */
public record ReportInfo(String commandLine, Instant start, Duration duration, MachineFacts machine,
                         Map<String, String> systems, WorkloadSettings workload, String coreSharing) {
    /** Checks that nothing is null and copies the systems (keeping their order). */
    public ReportInfo {
        Objects.requireNonNull(commandLine, "commandLine");
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(duration, "duration");
        Objects.requireNonNull(machine, "machine");
        systems = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(systems, "systems")));
        Objects.requireNonNull(workload, "workload");
        Objects.requireNonNull(coreSharing, "coreSharing");
    }

    /**
     * The report info of a run on this machine: reads the machine facts itself ({@link MachineFacts#read()}).
     *
     * @param commandLine the exact command line of the run
     * @param start       when the run started
     * @param duration    how long the run took
     * @param systems     system name to one line of its version and settings, in report order
     * @param workload    the YCSB settings
     * @param coreSharing how the cores were shared between servers and the YCSB client
     * @return the info, with this machine's facts
     */
    public static ReportInfo onThisMachine(String commandLine, Instant start, Duration duration,
                                           Map<String, String> systems, WorkloadSettings workload, String coreSharing) {
        return new ReportInfo(commandLine, start, duration, MachineFacts.read(), systems, workload, coreSharing);
    }
}
