package io.ferrite.bench.workload;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;

/**
 * The changing-size workloads of "Log-structured Memory for DRAM-based Storage" (Rumble et al.,
 * FAST'14, table 2): fill with values of the "before" sizes, delete a share of the keys at
 * random, then write values of the "after" sizes. Sizes are value bytes, 1 KB = 1000 B.
 */
public enum Workload {
    W1(SizeRange.of(100), 0.0, null),
    W2(SizeRange.of(100), 0.0, SizeRange.of(130)),
    W3(SizeRange.of(100), 0.9, SizeRange.of(130)),
    W4(new SizeRange(100, 150), 0.0, new SizeRange(200, 250)),
    W5(new SizeRange(100, 150), 0.9, new SizeRange(200, 250)),
    W6(new SizeRange(100, 200), 0.5, new SizeRange(1000, 2000)),
    W7(new SizeRange(1000, 2000), 0.9, new SizeRange(1500, 2500)),
    W8(new SizeRange(50, 150), 0.9, new SizeRange(5000, 15000));

    private final SizeRange before;
    private final double deleteShare;
    private final SizeRange after;

    Workload(SizeRange before, double deleteShare, SizeRange after) {
        this.before = before;
        this.deleteShare = deleteShare;
        this.after = after;
    }

    public SizeRange before() {
        return before;
    }

    /** Share of the keys deleted after the fill. */
    public double deleteShare() {
        return deleteShare;
    }

    /** Whether the workload changes sizes after the fill (W1 does not). */
    public boolean hasAfterPhase() {
        return after != null;
    }

    /** Sizes of the writes after the fill: the "after" sizes, or the "before" sizes for W1. */
    public SizeRange writeSizes() {
        return after != null ? after : before;
    }

    /** Largest value this workload ever writes. */
    public int maxValueBytes() {
        return Math.max(before.maxBytes(), writeSizes().maxBytes());
    }

    public String describe() {
        return name() + ": " + before + ", " + Math.round(deleteShare * 100) + "% delete, "
                + (after != null ? "after " + after : "no after-phase");
    }

    /**
     * Parses {@code all} or a comma list of workload names such as {@code W1,w3}.
     *
     * @throws IllegalArgumentException naming the bad entry
     */
    public static List<Workload> parseList(String text) {
        if (text.trim().equalsIgnoreCase("all")) {
            return List.of(values());
        }
        EnumSet<Workload> chosen = EnumSet.noneOf(Workload.class);
        for (String part : text.split(",", -1)) {
            String name = part.trim().toUpperCase(Locale.ROOT);
            try {
                chosen.add(valueOf(name));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown workload '" + part.trim()
                        + "' (expected 'all' or a comma list of W1..W8)", e);
            }
        }
        return new ArrayList<>(chosen);
    }
}
