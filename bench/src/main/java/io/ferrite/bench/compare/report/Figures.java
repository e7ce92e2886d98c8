package io.ferrite.bench.compare.report;

import io.ferrite.bench.compare.CompareRow;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The measured rows, looked up by (system, phase, record size, metric, op), with the names the
 * report orders them by. A figure that was not measured is absent: {@link #find} returns null,
 * {@link #value} NaN. Should two rows share a key, the later one counts.
 */
final class Figures {
    static final List<String> SYSTEMS =
            List.of("redis-everysec", "redis-always", "hazelcast", "ferrite-r0", "ferrite-r1", "ferrite-r2");
    static final List<String> MEMORY_SYSTEMS = List.of("redis-everysec", "hazelcast", "ferrite-r0");
    static final List<String> YCSB_PHASES = List.of("load", "A", "B", "C", "F", "write-only");
    static final List<String> MEMORY_PHASES = List.of("memory-load", "memory-w3");
    static final List<String> OPS = List.of("INSERT", "READ", "UPDATE", "READ-MODIFY-WRITE");
    static final List<String> LATENCIES = List.of("p50", "p99", "p999");
    static final String ALL = "ALL";
    static final String THROUGHPUT = "throughput";
    static final String ERRORS = "errors";

    private final List<CompareRow> rows;
    private final Map<Key, CompareRow> byKey = new HashMap<>();

    Figures(List<CompareRow> rows) {
        this.rows = List.copyOf(rows);
        for (CompareRow row : this.rows) {
            byKey.put(new Key(row.system(), row.phase(), row.recordBytes(), row.metric(), row.op()), row);
        }
    }

    static boolean isMemory(String phase) {
        return phase.startsWith("memory-");
    }

    static boolean isRecovery(String phase) {
        return phase.startsWith("recovery");
    }

    static boolean isYcsb(String phase) {
        return !isMemory(phase) && !isRecovery(phase);
    }

    List<CompareRow> rows() {
        return rows;
    }

    /** The row of that figure, or null when it was not measured. */
    CompareRow find(String system, String phase, int recordBytes, String metric, String op) {
        return byKey.get(new Key(system, phase, recordBytes, metric, op));
    }

    /** The value of that figure, or NaN when it was not measured. */
    double value(String system, String phase, int recordBytes, String metric, String op) {
        CompareRow row = find(system, phase, recordBytes, metric, op);
        return row == null ? Double.NaN : row.value();
    }

    /** The errors of a system in a phase summed over its ops, or NaN when none were counted. */
    double errors(String system, String phase, int recordBytes) {
        double sum = Double.NaN;
        for (CompareRow row : rows) {
            if (row.metric().equals(ERRORS) && row.system().equals(system) && row.phase().equals(phase)
                    && row.recordBytes() == recordBytes) {
                sum = Double.isNaN(sum) ? row.value() : sum + row.value();
            }
        }
        return sum;
    }

    /** {@code expected} in order, then every other system of the matching rows or of {@code described}. */
    List<String> systems(List<String> expected, Collection<String> described, Predicate<CompareRow> matching) {
        Set<String> systems = new LinkedHashSet<>(expected);
        for (String system : described) {
            if (!SYSTEMS.contains(system)) {
                systems.add(system);
            }
        }
        for (CompareRow row : rows) {
            if (matching.test(row)) {
                systems.add(row.system());
            }
        }
        return List.copyOf(systems);
    }

    /** {@code expected} in order, then every other phase of the matching rows. */
    List<String> phases(List<String> expected, Predicate<CompareRow> matching) {
        Set<String> phases = new LinkedHashSet<>(expected);
        for (CompareRow row : rows) {
            if (matching.test(row)) {
                phases.add(row.phase());
            }
        }
        return List.copyOf(phases);
    }

    /** The record sizes of the matching rows and {@code declared}, largest first. */
    List<Integer> recordSizes(Collection<Integer> declared, Predicate<CompareRow> matching) {
        Set<Integer> sizes = new TreeSet<>(Comparator.reverseOrder());
        sizes.addAll(declared);
        for (CompareRow row : rows) {
            if (matching.test(row)) {
                sizes.add(row.recordBytes());
            }
        }
        return List.copyOf(sizes);
    }

    /** The ops measured for {@code metric} in a phase at a record size, in {@link #OPS} order then others. */
    List<String> ops(String phase, int recordBytes, String metric) {
        Set<String> found = new LinkedHashSet<>();
        for (CompareRow row : rows) {
            if (row.phase().equals(phase) && row.recordBytes() == recordBytes && row.metric().equals(metric)) {
                found.add(row.op());
            }
        }
        List<String> ops = new ArrayList<>();
        for (String op : OPS) {
            if (found.remove(op)) {
                ops.add(op);
            }
        }
        ops.addAll(found);
        return ops;
    }

    private record Key(String system, String phase, int recordBytes, String metric, String op) {
    }
}
