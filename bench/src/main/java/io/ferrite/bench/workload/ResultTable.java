package io.ferrite.bench.workload;

import io.ferrite.master.EngineStats;
import java.io.PrintStream;
import java.util.Locale;

/** Prints run results as a fixed-width table, one row per run as it finishes. */
public final class ResultTable {
    private static final String HEADER_FORMAT =
            "%-4s %5s %4s %9s %11s %10s %8s %7s %10s %10s %6s %7s %7s %7s %6s %6s %4s%n";
    private static final String ROW_FORMAT =
            "%-4s %5.2f %4s %,9d %,11d %,10d %,8d %7.1f %,10.0f %,10.0f %6.3f %7.3f %7.2f %7.3f %6d %6d %4s%n";

    private final PrintStream out;

    public ResultTable(PrintStream out) {
        this.out = out;
    }

    public void header() {
        out.printf(Locale.ROOT, HEADER_FORMAT, "wl", "live", "done", "objects", "writes", "removes", "retries",
                "sec", "writes/s", "after w/s", "logUt", "mem/lv", "idxB/o", "mv/free", "compct", "combnd", "ok");
    }

    public void row(RunResult r) {
        EngineStats s = r.stats();
        if (s == null) {
            out.printf(Locale.ROOT, "%-4s %5.2f FAILED: %s%n", r.workload(), r.liveShare(), r.error());
            return;
        }
        RunResult.Verification v = r.verification();
        out.printf(Locale.ROOT, ROW_FORMAT, r.workload(), r.liveShare(), r.completed() ? "yes" : "NO",
                r.counts().objects(), r.counts().writes(), r.counts().removes(), r.counts().retries(),
                r.timing().seconds(), r.writesPerSec(), r.afterPhaseWritesPerSec(), s.logUtilization(),
                s.memoryPerLiveByte(), s.indexBytesPerObject(), s.cleaner().bytesMovedPerByteFreed(),
                s.cleaner().compactions(), s.cleaner().combinedPasses(),
                v == null ? "-" : v.passed() ? "ok" : "BAD");
        out.flush();
    }
}
