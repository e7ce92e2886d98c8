package io.ferrite.bench.workload;

import io.ferrite.master.EngineStats;
import io.ferrite.master.cleaner.CleanerStats;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * Writes run results as a JSON array, one object per (workload, live share). The file is
 * rewritten (atomically) after every run, so an interrupted benchmark leaves the runs it
 * finished. {@code writesPerSec} counts successful writes only (removes are in {@code removes})
 * over the whole run: fill, delete and after-phase.
 */
public final class ResultsJson {
    private ResultsJson() {
    }

    public static void write(Path file, List<RunResult> results) throws IOException {
        StringBuilder json = new StringBuilder(1024 * (results.size() + 1));
        json.append("[\n");
        for (int i = 0; i < results.size(); i++) {
            append(json, results.get(i));
            json.append(i + 1 < results.size() ? ",\n" : "\n");
        }
        json.append("]\n");
        Path absolute = file.toAbsolutePath();
        Path parent = absolute.getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Path temporary = absolute.resolveSibling(absolute.getFileName() + ".tmp");
        Files.writeString(temporary, json, StandardCharsets.UTF_8);
        Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void append(StringBuilder json, RunResult r) {
        Fields f = new Fields(json);
        f.string("workload", r.workload().name());
        f.number("live", r.liveShare());
        f.bool("completed", r.completed());
        f.number("retries", r.counts().retries());
        EngineStats stats = r.stats();
        CleanerStats cleaner = stats == null ? null : stats.cleaner();
        f.number("logUtilization", stats == null ? Double.NaN : stats.logUtilization());
        f.number("memoryPerLiveByte", stats == null ? Double.NaN : stats.memoryPerLiveByte());
        f.number("indexBytesPerObject", stats == null ? Double.NaN : stats.indexBytesPerObject());
        f.number("writesPerSec", r.writesPerSec());
        f.number("cleanerBytesMovedPerByteFreed", cleaner == null ? Double.NaN : cleaner.bytesMovedPerByteFreed());
        f.string("error", r.error());
        f.string("description", r.workload().describe());
        f.number("afterPhaseWritesPerSec", r.afterPhaseWritesPerSec());
        f.number("objects", r.counts().objects());
        f.number("writes", r.counts().writes());
        f.number("afterPhaseWrites", r.counts().afterPhaseWrites());
        f.number("removes", r.counts().removes());
        f.number("awaitTimeouts", r.counts().awaitTimeouts());
        f.number("maxRetryStallMs", r.counts().maxStallNs() / 1e6);
        f.number("keyValueBytesWritten", r.counts().keyValueBytesWritten());
        f.number("writtenMultiple", r.writtenMultiple());
        f.number("writtenMultipleReached", r.writtenMultipleReached());
        f.number("seconds", r.timing().seconds());
        f.number("fillSeconds", r.timing().fillNs() / 1e9);
        f.number("deleteSeconds", r.timing().deleteNs() / 1e9);
        f.number("afterSeconds", r.timing().afterNs() / 1e9);
        f.number("memoryBytes", r.memoryBytes());
        f.number("runSeed", r.runSeed());
        if (stats != null) {
            f.number("liveEntryBytes", stats.liveEntryBytes());
            f.number("liveKeyValueBytes", stats.liveKeyValueBytes());
            f.number("tombstoneBytes", stats.tombstoneBytes());
            f.number("segletsHeld", stats.segletsHeld());
            f.number("segletsTotal", stats.segletsTotal());
            f.number("hashTableBytes", stats.hashTableBytes());
            f.number("segments", stats.segments());
            f.number("compactions", cleaner.compactions());
            f.number("combinedPasses", cleaner.combinedPasses());
            f.number("segmentsCleaned", cleaner.segmentsCleaned());
            f.number("cleanerBytesMoved", cleaner.bytesMoved());
            f.number("segletsFreed", cleaner.segletsFreed());
            f.number("tombstonesDropped", cleaner.tombstonesDropped());
            f.number("cleanerSeconds", cleaner.cleaningTimeNs() / 1e9);
            f.number("passesAborted", cleaner.passesAborted());
        }
        RunResult.Verification v = r.verification();
        if (v != null) {
            f.bool("verified", v.passed());
            f.number("verifiedLiveKeys", v.liveChecked());
            f.number("verifiedRemovedKeys", v.removedChecked());
            f.number("verifyMismatches", v.mismatches());
            f.string("firstMismatch", v.firstMismatch());
        }
        json.append("\n  }");
    }

    /** Appends {@code "name": value} pairs of one object. */
    private static final class Fields {
        private final StringBuilder json;
        private boolean first = true;

        Fields(StringBuilder json) {
            this.json = json;
            json.append("  {");
        }

        private void name(String name) {
            json.append(first ? "\n    \"" : ",\n    \"").append(name).append("\": ");
            first = false;
        }

        void string(String name, String value) {
            name(name);
            if (value == null) {
                json.append("null");
                return;
            }
            json.append('"');
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                switch (c) {
                    case '"' -> json.append("\\\"");
                    case '\\' -> json.append("\\\\");
                    case '\n' -> json.append("\\n");
                    case '\t' -> json.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            json.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                        } else {
                            json.append(c);
                        }
                    }
                }
            }
            json.append('"');
        }

        void bool(String name, boolean value) {
            name(name);
            json.append(value);
        }

        void number(String name, long value) {
            name(name);
            json.append(value);
        }

        /** A double with six significant digits; NaN and infinities (not JSON) become null. */
        void number(String name, double value) {
            name(name);
            if (!Double.isFinite(value)) {
                json.append("null");
            } else if (value == Math.rint(value) && Math.abs(value) < 1e15) {
                json.append((long) value);
            } else {
                json.append(new java.math.BigDecimal(value).round(new java.math.MathContext(6)).stripTrailingZeros()
                        .toPlainString());
            }
        }
    }
}
