package io.ferrite.bench.workload;

import io.ferrite.master.EngineContext;
import io.ferrite.master.EngineStats;
import io.ferrite.master.ObjectManager;
import io.ferrite.master.log.LogSegment;
import io.ferrite.master.log.MasterLog;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Describes an engine whose writers keep getting RETRY: its statistics and every segment of
 * the log, so a stall can be diagnosed from the benchmark's output alone. Reads only.
 */
final class StallReport {
    private StallReport() {
    }

    static void print(ObjectManager manager, PrintStream out) {
        MasterLog log = manager.log();
        EngineContext context = manager.context();
        EngineStats stats = manager.stats();
        StringBuilder text = new StringBuilder(4096);
        text.append(String.format(Locale.ROOT, "  engine: %s%n", stats));
        text.append(String.format(Locale.ROOT,
                "  free seglets %d (writer floor %d, low-memory mark %d), log clock %d; segments "
                        + "(id: live/length bytes, replica length, seglets, seglets the live bytes need, u, age stamp):%n",
                log.pool().freeSeglets(), context.writerFloorSeglets(), context.lowMemorySeglets(), log.clock()));
        List<LogSegment> segments = new ArrayList<>(log.segments());
        segments.sort(Comparator.comparingLong(LogSegment::id));
        for (LogSegment segment : segments) {
            text.append(String.format(Locale.ROOT, "    %d: %d/%d, %d, %d seglets, needs %d, u %.3f, age %d%s%s%n",
                    segment.id(), segment.liveBytes(), segment.lengthBytes(), segment.replicaLengthBytes(),
                    segment.segletCount(), (segment.liveBytes() + 256 + 65_535) / 65_536,
                    (double) segment.liveBytes() / segment.replicaLengthBytes(), segment.ageStamp(),
                    segment.isClosed() ? "" : " (open)", segment.isBeingCleaned() ? " (claimed)" : ""));
        }
        out.println(text);
    }
}
