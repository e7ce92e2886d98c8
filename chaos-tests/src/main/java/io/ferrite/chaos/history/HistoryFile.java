package io.ferrite.chaos.history;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A run saved as JSON lines, one record per line, so a failing run can be kept and re-checked:
 *
 * <pre>
 * {"type":"invoke","id":7,"process":3,"timeNs":1200,"op":{"f":"write","key":"k1","value":"p3-w7"}}
 * {"type":"ok","id":7,"process":3,"timeNs":2400,"result":{"r":"written","version":12}}
 * {"type":"info","id":8,"process":1,"timeNs":9000,"reason":"timeout"}
 * {"type":"fault","kind":"kill-master","injectedAtNs":5000,"healedAtNs":-1}
 * {"type":"final","source":"cluster","key":"k1","result":{"r":"found","value":"p3-w7","version":12}}
 * {"type":"final","source":"certified","counter":"c1","value":42}
 * {"type":"seed","seed":1234}
 * </pre>
 *
 * <p>Operations ({@code "f"}): {@code read(key)}, {@code write(key,value)},
 * {@code cas(key,expectedVersion,value)}, {@code incr(key,delta)}, {@code multiWrite(items)},
 * {@code multiRead(keys)}. Results ({@code "r"}): {@code written(version)},
 * {@code found(value,version)}, {@code absent}, {@code refused(reason,currentVersion)},
 * {@code counter(value)}, {@code multi(results)}.
 *
 * <p>{@link #main(String[])} re-checks a saved file and prints its {@link CheckReport}.
 */
public final class HistoryFile {
    private HistoryFile() {
    }

    /**
     * What a file holds.
     *
     * @param history   the operations and faults
     * @param cluster   the final state read from the cluster (empty if not saved)
     * @param certified the final state rebuilt from certified replicas (empty if not saved)
     * @param seed      the run's seed (0 if not saved)
     */
    public record Contents(History history, FinalState cluster, FinalState certified, long seed) {
    }

    /**
     * Saves a run.
     *
     * @param path      the file, replaced
     * @param history   the history
     * @param cluster   the final cluster state, or null
     * @param certified the final certified state, or null
     * @param seed      the run's seed
     * @throws UncheckedIOException on I/O failure
     */
    public static void write(Path path, History history, FinalState cluster, FinalState certified, long seed) {
        try (BufferedWriter w = Files.newBufferedWriter(path, StandardCharsets.UTF_8)) {
            w.write(line(b -> new Json.Obj(b).field("type", "seed").field("seed", seed).end()));
            for (Event e : history.events()) {
                w.write(line(b -> event(b, e)));
            }
            for (Fault f : history.faults()) {
                w.write(line(b -> new Json.Obj(b).field("type", "fault").field("kind", f.kind())
                        .field("injectedAtNs", f.injectedAtNs()).field("healedAtNs", f.healedAtNs()).end()));
            }
            writeFinal(w, "cluster", cluster);
            writeFinal(w, "certified", certified);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + path, e);
        }
    }

    /**
     * Loads a run saved by {@link #write}.
     *
     * @param path the file
     * @return its contents
     * @throws UncheckedIOException     on I/O failure
     * @throws IllegalArgumentException on a malformed line, naming it
     */
    public static Contents read(Path path) {
        final List<Event> events = new ArrayList<>();
        final List<Fault> faults = new ArrayList<>();
        final Map<String, Map<String, Result>> registers = new HashMap<>();
        final Map<String, Map<String, Long>> counters = new HashMap<>();
        long seed = 0;
        try (BufferedReader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            String text;
            int lineNo = 0;
            while ((text = r.readLine()) != null) {
                lineNo++;
                if (text.isBlank()) {
                    continue;
                }
                try {
                    final Map<String, Object> m = obj(Json.parse(text));
                    final String type = str(m, "type");
                    switch (type) {
                        case "seed" -> seed = num(m, "seed");
                        case "fault" -> faults.add(new Fault(str(m, "kind"), num(m, "injectedAtNs"),
                                num(m, "healedAtNs")));
                        case "final" -> {
                            final String source = str(m, "source");
                            if (m.containsKey("counter")) {
                                counters.computeIfAbsent(source, s -> new HashMap<>())
                                        .put(str(m, "counter"), num(m, "value"));
                            } else {
                                registers.computeIfAbsent(source, s -> new HashMap<>())
                                        .put(str(m, "key"), result(m.get("result")));
                            }
                        }
                        default -> events.add(event(m, type));
                    }
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException(path + ":" + lineNo + ": " + e.getMessage(), e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + path, e);
        }
        return new Contents(History.of(events, faults), finalState(registers, counters, "cluster"),
                finalState(registers, counters, "certified"), seed);
    }

    /**
     * Re-checks saved runs: {@code HistoryFile <file>...}. Prints each report and the explanation
     * of every violation; exits 1 if any run lost a write or broke linearizability.
     *
     * @param args the files
     */
    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: HistoryFile <history.jsonl>...");
            System.exit(2);
        }
        boolean bad = false;
        for (String a : args) {
            final Contents c = read(Path.of(a));
            final CheckReport report = CheckReport.check(c.seed(), c.history(), c.cluster(), c.certified());
            System.out.println(a + ":");
            System.out.println(report.explain());
            System.out.println(report.toJson());
            bad |= !report.passed();
        }
        System.exit(bad ? 1 : 0);
    }

    // ---------------------------------------------------------------- encoding

    private interface LineWriter {
        void write(StringBuilder b);
    }

    private static String line(LineWriter lw) {
        final StringBuilder b = new StringBuilder(128);
        lw.write(b);
        return b.append('\n').toString();
    }

    private static void writeFinal(BufferedWriter w, String source, FinalState s) throws IOException {
        if (s == null) {
            return;
        }
        for (Map.Entry<String, Result> e : s.registers().entrySet()) {
            w.write(line(b -> {
                final Json.Obj o = new Json.Obj(b).field("type", "final").field("source", source)
                        .field("key", e.getKey());
                result(o.raw("result"), e.getValue());
                o.end();
            }));
        }
        for (Map.Entry<String, Long> e : s.counters().entrySet()) {
            w.write(line(b -> new Json.Obj(b).field("type", "final").field("source", source)
                    .field("counter", e.getKey()).field("value", e.getValue()).end()));
        }
    }

    static void event(StringBuilder b, Event e) {
        final Json.Obj o = new Json.Obj(b).field("type", e.type().name().toLowerCase(java.util.Locale.ROOT))
                .field("id", e.id()).field("process", e.process()).field("timeNs", e.timeNs());
        if (e.op() != null) {
            op(o.raw("op"), e.op());
        }
        if (e.result() != null) {
            result(o.raw("result"), e.result());
        }
        if (e.reason() != null) {
            o.field("reason", e.reason());
        }
        o.end();
    }

    static void op(StringBuilder b, Op op) {
        final Json.Obj o = new Json.Obj(b);
        switch (op) {
            case Op.Read r -> o.field("f", "read").field("key", r.key());
            case Op.Write w -> o.field("f", "write").field("key", w.key()).field("value", w.value());
            case Op.Cas c -> o.field("f", "cas").field("key", c.key()).field("expectedVersion", c.expectedVersion())
                    .field("value", c.value());
            case Op.Incr i -> o.field("f", "incr").field("key", i.key()).field("delta", i.delta());
            case Op.MultiWrite m -> {
                final StringBuilder a = o.field("f", "multiWrite").raw("items").append('[');
                for (int i = 0; i < m.items().size(); i++) {
                    op(i == 0 ? a : a.append(','), m.items().get(i));
                }
                a.append(']');
            }
            case Op.MultiRead m -> {
                final StringBuilder a = o.field("f", "multiRead").raw("keys").append('[');
                for (int i = 0; i < m.keys().size(); i++) {
                    Json.quote(i == 0 ? a : a.append(','), m.keys().get(i));
                }
                a.append(']');
            }
        }
        o.end();
    }

    static void result(StringBuilder b, Result result) {
        final Json.Obj o = new Json.Obj(b);
        switch (result) {
            case Result.Written w -> o.field("r", "written").field("version", w.version());
            case Result.Found f -> o.field("r", "found").field("value", f.value()).field("version", f.version());
            case Result.Absent a -> o.field("r", "absent");
            case Result.Refused r -> o.field("r", "refused").field("reason", r.reason().name())
                    .field("currentVersion", r.currentVersion());
            case Result.CounterValue c -> o.field("r", "counter").field("value", c.value());
            case Result.Multi m -> {
                final StringBuilder a = o.field("r", "multi").raw("results").append('[');
                for (int i = 0; i < m.results().size(); i++) {
                    result(i == 0 ? a : a.append(','), m.results().get(i));
                }
                a.append(']');
            }
        }
        o.end();
    }

    // ---------------------------------------------------------------- decoding

    private static Event event(Map<String, Object> m, String type) {
        final Event.Type t = Event.Type.valueOf(type.toUpperCase(java.util.Locale.ROOT));
        return new Event(num(m, "id"), (int) num(m, "process"), t, num(m, "timeNs"),
                m.containsKey("op") ? op(m.get("op")) : null,
                m.containsKey("result") ? result(m.get("result")) : null,
                m.containsKey("reason") ? str(m, "reason") : null);
    }

    private static Op op(Object json) {
        final Map<String, Object> m = obj(json);
        final String f = str(m, "f");
        return switch (f) {
            case "read" -> Op.read(str(m, "key"));
            case "write" -> Op.write(str(m, "key"), str(m, "value"));
            case "cas" -> Op.cas(str(m, "key"), num(m, "expectedVersion"), str(m, "value"));
            case "incr" -> Op.incr(str(m, "key"), num(m, "delta"));
            case "multiWrite" -> new Op.MultiWrite(list(m, "items").stream().map(HistoryFile::op).toList());
            case "multiRead" -> new Op.MultiRead(list(m, "keys").stream().map(k -> (String) k).toList());
            default -> throw new IllegalArgumentException("unknown op " + f);
        };
    }

    private static Result result(Object json) {
        final Map<String, Object> m = obj(json);
        final String r = str(m, "r");
        return switch (r) {
            case "written" -> Result.written(num(m, "version"));
            case "found" -> Result.found(str(m, "value"), num(m, "version"));
            case "absent" -> Result.absent();
            case "refused" -> new Result.Refused(Result.Refusal.valueOf(str(m, "reason")), num(m, "currentVersion"));
            case "counter" -> Result.counter(num(m, "value"));
            case "multi" -> Result.multi(list(m, "results").stream().map(HistoryFile::result).toList());
            default -> throw new IllegalArgumentException("unknown result " + r);
        };
    }

    private static FinalState finalState(Map<String, Map<String, Result>> registers,
                                         Map<String, Map<String, Long>> counters, String source) {
        return new FinalState(registers.getOrDefault(source, Map.of()), counters.getOrDefault(source, Map.of()));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> obj(Object json) {
        if (!(json instanceof Map)) {
            throw new IllegalArgumentException("expected an object: " + json);
        }
        return (Map<String, Object>) json;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Map<String, Object> m, String field) {
        if (!(m.get(field) instanceof List)) {
            throw new IllegalArgumentException("expected an array in " + field);
        }
        return (List<Object>) m.get(field);
    }

    private static String str(Map<String, Object> m, String field) {
        if (!(m.get(field) instanceof String s)) {
            throw new IllegalArgumentException("expected a string in " + field);
        }
        return s;
    }

    private static long num(Map<String, Object> m, String field) {
        if (!(m.get(field) instanceof Long l)) {
            throw new IllegalArgumentException("expected an integer in " + field);
        }
        return l;
    }
}
