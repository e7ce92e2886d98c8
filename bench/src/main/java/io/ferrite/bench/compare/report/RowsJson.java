package io.ferrite.bench.compare.report;

import io.ferrite.bench.compare.CompareRow;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The rows as a JSON array, one {@link CompareRow#toJson()} object per line:
 * <pre>
 * [
 * {"system":"hazelcast","phase":"A","recordBytes":1000,"metric":"throughput","op":"ALL","value":4123,"unit":"ops/s"},
 * ...
 * ]
 * </pre>
 * The reader parses exactly that format back (a {@code null} value is NaN) and names the first
 * line it cannot parse.
 */
final class RowsJson {
    private static final Pattern ROW = Pattern.compile(
            "\\{\"system\":\"([^\"]*)\",\"phase\":\"([^\"]*)\",\"recordBytes\":(-?\\d+),\"metric\":\"([^\"]*)\","
                    + "\"op\":\"([^\"]*)\",\"value\":(null|-?[0-9.]+(?:[eE][-+]?\\d+)?),\"unit\":\"([^\"]*)\"}");

    private RowsJson() {
    }

    static void write(List<CompareRow> rows, Path file) throws IOException {
        StringBuilder json = new StringBuilder(160 * (rows.size() + 1));
        json.append("[\n");
        for (int i = 0; i < rows.size(); i++) {
            json.append(rows.get(i).toJson()).append(i + 1 < rows.size() ? ",\n" : "\n");
        }
        json.append("]\n");
        ReportFiles.writeAtomically(file, json.toString().getBytes(StandardCharsets.UTF_8));
    }

    static List<CompareRow> read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<CompareRow> rows = new ArrayList<>(lines.size());
        boolean opened = false;
        boolean closed = false;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            if (closed) {
                throw bad(file, i, "text after the closing ]");
            }
            if (!opened && line.equals("[]")) {
                opened = true;
                closed = true;
            } else if (!opened) {
                if (!line.equals("[")) {
                    throw bad(file, i, "expected [");
                }
                opened = true;
            } else if (line.equals("]")) {
                closed = true;
            } else {
                rows.add(row(file, i, line.endsWith(",") ? line.substring(0, line.length() - 1) : line));
            }
        }
        if (!closed) {
            throw new IOException(file + ": no closing ] (a truncated file?)");
        }
        return rows;
    }

    private static CompareRow row(Path file, int index, String line) throws IOException {
        Matcher m = ROW.matcher(line);
        if (!m.matches()) {
            throw bad(file, index, "not a CompareRow object: " + line);
        }
        double value = m.group(6).equals("null") ? Double.NaN : Double.parseDouble(m.group(6));
        return new CompareRow(m.group(1), m.group(2), Integer.parseInt(m.group(3)), m.group(4), m.group(5), value,
                m.group(7));
    }

    private static IOException bad(Path file, int index, String problem) {
        return new IOException(file + ":" + (index + 1) + ": " + problem);
    }
}
