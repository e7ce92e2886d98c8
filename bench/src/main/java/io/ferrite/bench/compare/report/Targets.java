package io.ferrite.bench.compare.report;

import io.ferrite.bench.compare.CompareRow;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * The comparison's targets and their verdicts, computed from the rows. A target compares one
 * Ferrite figure with a factor of a peer's figure at the same record size; a target without a
 * fixed record size (recovery) is judged at every size either side measured.
 */
final class Targets {
    private static final List<Integer> BOTH_SIZES = List.of(1000, 100);
    private static final List<Integer> SMALL_RECORDS = List.of(100);
    private static final List<Integer> SIZES_MEASURED = List.of();

    /** How the Ferrite figure must compare with {@code factor ×} the reference figure. */
    enum Comparison {
        AT_LEAST("≥"), AT_MOST("≤"), ABOVE(">"), BELOW("<");

        final String symbol;

        Comparison(String symbol) {
            this.symbol = symbol;
        }

        boolean holds(double subject, double bound) {
            return switch (this) {
                case AT_LEAST -> subject >= bound;
                case AT_MOST -> subject <= bound;
                case ABOVE -> subject > bound;
                case BELOW -> subject < bound;
            };
        }

        boolean strict() {
            return this == ABOVE || this == BELOW;
        }
    }

    /** The verdict of a target, as the report writes it. */
    enum Verdict {
        MET("met"), MISSED("missed"), NOT_MEASURED("not measured");

        final String text;

        Verdict(String text) {
            this.text = text;
        }
    }

    /**
     * One target: {@code system}'s {@code metric} ({@code op}) in {@code phase}, compared with
     * {@code factor ×} {@code reference}'s in {@code referencePhase}, at each of {@code recordSizes}
     * (empty: every size measured).
     */
    record Target(String area, String system, String phase, String metric, String op, Comparison comparison,
                  double factor, String reference, String referencePhase, List<Integer> recordSizes) {
        String label() {
            StringBuilder label = new StringBuilder();
            label.append(system).append(" `").append(phase).append("` ");
            if (!op.equals(Figures.ALL)) {
                label.append(op).append(' ');
            }
            label.append(metric).append(' ').append(comparison.symbol).append(' ');
            if (!(comparison.strict() && factor == 1)) {
                label.append(BigDecimal.valueOf(factor).stripTrailingZeros().toPlainString()).append(" × ");
            }
            label.append(reference);
            if (!referencePhase.equals(phase)) {
                label.append(" `").append(referencePhase).append('`');
            }
            return label.toString();
        }
    }

    /** A target judged at one record size (0 when neither side measured any). */
    record Result(Target target, int recordBytes, CompareRow subject, CompareRow reference, Verdict verdict) {
        double subjectValue() {
            return subject == null ? Double.NaN : subject.value();
        }

        double referenceValue() {
            return reference == null ? Double.NaN : reference.value();
        }
    }

    /** Every target, in report order. */
    static final List<Target> ALL = targets();

    private Targets() {
    }

    private static List<Target> targets() {
        List<Target> all = new ArrayList<>();
        String throughput = Figures.THROUGHPUT;
        String allOps = Figures.ALL;
        for (String peer : List.of("redis-everysec", "hazelcast")) {
            all.add(new Target("Reads", "ferrite-r0", "C", throughput, allOps, Comparison.AT_LEAST, 1.0, peer, "C",
                    BOTH_SIZES));
        }
        for (String phase : List.of("A", "write-only")) {
            all.add(new Target("Durable writes", "ferrite-r2", phase, throughput, allOps, Comparison.AT_LEAST, 1.0,
                    "redis-always", phase, BOTH_SIZES));
            all.add(new Target("Durable writes", "ferrite-r2", phase, "p99", "UPDATE", Comparison.AT_MOST, 1.0,
                    "redis-always", phase, BOTH_SIZES));
        }
        all.add(new Target("Memory", "ferrite-r0", "memory-w3", "rss_per_record", allOps, Comparison.AT_MOST, 0.6,
                "redis-everysec", "memory-w3", SMALL_RECORDS));
        all.add(new Target("Memory", "ferrite-r0", "memory-w3", "rss_per_record", allOps, Comparison.BELOW, 1.0,
                "hazelcast", "memory-w3", SMALL_RECORDS));
        all.add(new Target("Recovery", "ferrite-r1", "recovery", "mb_per_s", allOps, Comparison.AT_LEAST, 3.0,
                "redis-everysec", "recovery-rdb", SIZES_MEASURED));
        all.add(new Target("Recovery", "ferrite-r1", "recovery", "mb_per_s", allOps, Comparison.ABOVE, 1.0,
                "hazelcast", "recovery", SIZES_MEASURED));
        return List.copyOf(all);
    }

    /** Every target judged at each of its record sizes, in report order. */
    static List<Result> evaluate(Figures figures) {
        List<Result> results = new ArrayList<>();
        for (Target target : ALL) {
            List<Integer> sizes = target.recordSizes().isEmpty() ? measuredSizes(figures, target)
                    : target.recordSizes();
            if (sizes.isEmpty()) {
                results.add(new Result(target, 0, null, null, Verdict.NOT_MEASURED));
            }
            for (int size : sizes) {
                results.add(judge(figures, target, size));
            }
        }
        return results;
    }

    private static List<Integer> measuredSizes(Figures figures, Target t) {
        return figures.recordSizes(List.of(), row -> row.metric().equals(t.metric()) && row.op().equals(t.op())
                && (row.system().equals(t.system()) && row.phase().equals(t.phase())
                || row.system().equals(t.reference()) && row.phase().equals(t.referencePhase())));
    }

    private static Result judge(Figures figures, Target t, int size) {
        CompareRow subject = figures.find(t.system(), t.phase(), size, t.metric(), t.op());
        CompareRow reference = figures.find(t.reference(), t.referencePhase(), size, t.metric(), t.op());
        Verdict verdict;
        if (subject == null || reference == null || Double.isNaN(subject.value()) || Double.isNaN(reference.value())) {
            verdict = Verdict.NOT_MEASURED;
        } else {
            boolean holds = t.comparison().holds(subject.value(), t.factor() * reference.value());
            verdict = holds ? Verdict.MET : Verdict.MISSED;
        }
        return new Result(t, size, subject, reference, verdict);
    }
}
