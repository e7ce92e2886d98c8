package io.ferrite.bench.compare;

import java.util.Locale;

/**
 * One measured figure of {@code bench compare}: a system, a phase (YCSB workload, memory
 * phase or recovery), the record size, the metric and its value. {@code op} names the YCSB
 * operation a latency belongs to ({@code READ}, {@code UPDATE}, {@code READ-MODIFY-WRITE},
 * {@code INSERT}) or {@code ALL}.
 *
 * @param system      e.g. {@code redis-everysec}, {@code hazelcast}, {@code ferrite-r1}
 * @param phase       e.g. {@code load}, {@code A}, {@code B}, {@code C}, {@code F}, {@code write-only},
 *                    {@code memory-load}, {@code memory-w3}, {@code recovery-rdb}, {@code recovery}
 * @param recordBytes bytes of one record's fields (1000 or 100)
 * @param metric      e.g. {@code throughput}, {@code p50}, {@code p99}, {@code p999}, {@code errors},
 *                    {@code rss_per_record}, {@code data_per_record}, {@code service_ms}, {@code mb_per_s}
 * @param op          the operation, or {@code ALL}
 * @param value       the figure
 * @param unit        {@code ops/s}, {@code us}, {@code bytes}, {@code ms}, {@code MB/s}, {@code count}
 */
public record CompareRow(String system, String phase, int recordBytes, String metric, String op, double value,
                         String unit) {
    /** The row as one JSON object. */
    public String toJson() {
        return String.format(Locale.ROOT,
                "{\"system\":\"%s\",\"phase\":\"%s\",\"recordBytes\":%d,\"metric\":\"%s\",\"op\":\"%s\","
                        + "\"value\":%s,\"unit\":\"%s\"}",
                system, phase, recordBytes, metric, op, number(value), unit);
    }

    private static String number(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "null";
        }
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%.3f", v);
    }
}
