package io.ferrite.bench.compare.report;

import io.ferrite.bench.compare.CompareRow;
import java.util.Locale;

/** How the report writes a figure: by its unit, with thousands separators, "—" when not measured. */
final class FigureFormat {
    static final String MISSING = "—";

    private FigureFormat() {
    }

    /** The row's value in its unit's format, or "—" for a null row or a NaN value. */
    static String cell(CompareRow row) {
        return row == null ? MISSING : format(row.value(), row.unit());
    }

    /**
     * Counts and ops/s as integers; µs, ms, bytes, MB and MB/s with one decimal below 10, as
     * integers above; anything else with two decimals.
     */
    static String format(double value, String unit) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            return MISSING;
        }
        return switch (unit) {
            case "ops/s", "count" -> integer(value);
            case "us", "ms", "bytes", "MB", "MB/s" -> Math.abs(value) < 10 ? oneDecimal(value) : integer(value);
            default -> String.format(Locale.ROOT, "%,.2f", value);
        };
    }

    /** {@code subject / reference} as "1.23×", or "—" when either is missing or the reference is 0. */
    static String ratio(double subject, double reference) {
        if (Double.isNaN(subject) || Double.isNaN(reference) || reference == 0) {
            return MISSING;
        }
        return String.format(Locale.ROOT, "%.2f×", subject / reference);
    }

    private static String integer(double value) {
        return String.format(Locale.ROOT, "%,d", Math.round(value));
    }

    private static String oneDecimal(double value) {
        return String.format(Locale.ROOT, "%.1f", value);
    }
}
