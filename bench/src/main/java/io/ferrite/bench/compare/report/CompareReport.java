package io.ferrite.bench.compare.report;

import io.ferrite.bench.compare.CompareRow;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the report of a {@code bench compare} run: {@value #MARKDOWN_FILE} (what was run, the
 * targets with their verdicts, every figure) and its PNG charts, all from the measured rows; and
 * the rows themselves as JSON, which {@link #readJson} reads back so a report can be rendered
 * again ({@code --report}).
 */
public final class CompareReport {
    /** The Markdown report's file name in the report directory. */
    public static final String MARKDOWN_FILE = "compare.md";

    private CompareReport() {
    }

    /**
     * Writes {@value #MARKDOWN_FILE} and the charts ({@code compare-throughput-<size>.png},
     * {@code compare-p99-<size>.png} per record size, {@code compare-memory.png},
     * {@code compare-recovery.png}) into {@code dir}, creating it if needed. Each file is
     * replaced atomically. Figures missing from {@code rows} show as "—".
     *
     * @param rows every figure measured (any system, phase or figure may be absent)
     * @param info what was run, where and how
     * @param dir  the report directory
     * @return the files written, the Markdown first
     * @throws IOException if a file cannot be written
     */
    public static List<Path> write(List<CompareRow> rows, ReportInfo info, Path dir) throws IOException {
        Files.createDirectories(dir);
        Figures figures = new Figures(rows);
        ReportLayout layout = ReportLayout.of(figures, info);
        String markdown = CompareMarkdown.render(figures, info, layout, Targets.evaluate(figures));
        Path md = dir.resolve(MARKDOWN_FILE);
        ReportFiles.writeAtomically(md, markdown.getBytes(StandardCharsets.UTF_8));
        List<Path> written = new ArrayList<>();
        written.add(md);
        for (int size : layout.ycsbSizes()) {
            CompareCharts.writeThroughput(figures, layout.systems(), layout.ycsbPhases(), size, dir);
            written.add(dir.resolve(CompareCharts.throughputFile(size)));
            CompareCharts.writeP99(figures, layout.systems(), layout.ycsbPhases(), size, dir);
            written.add(dir.resolve(CompareCharts.p99File(size)));
        }
        CompareCharts.writeMemory(figures, layout.memorySystems(), layout.memoryLines(), dir);
        written.add(dir.resolve(CompareCharts.MEMORY_FILE));
        CompareCharts.writeRecovery(figures, layout.recoveryLines(), dir);
        written.add(dir.resolve(CompareCharts.RECOVERY_FILE));
        return List.copyOf(written);
    }

    /**
     * Writes {@code rows} as a JSON array, one {@link CompareRow#toJson()} per line, replacing
     * {@code file} atomically (temporary sibling, then a move).
     *
     * @param rows the rows, in the order to keep
     * @param file the JSON file; its directory is created if needed
     * @throws IOException if the file cannot be written
     */
    public static void writeJson(List<CompareRow> rows, Path file) throws IOException {
        RowsJson.write(rows, file);
    }

    /**
     * Reads back a file {@link #writeJson} wrote ({@code null} values become NaN).
     *
     * @param file the JSON file
     * @return the rows, in file order
     * @throws IOException if the file cannot be read or a line is not in that format (the message names it)
     */
    public static List<CompareRow> readJson(Path file) throws IOException {
        return RowsJson.read(file);
    }
}
