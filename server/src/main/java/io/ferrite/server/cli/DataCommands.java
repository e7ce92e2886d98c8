package io.ferrite.server.cli;

import io.ferrite.client.NotANumberException;
import io.ferrite.client.ObjectValue;
import io.ferrite.client.Table;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** The cli's data commands: one key at a time, plus a scan. Keys and values on the command line are UTF-8. */
final class DataCommands {
    private DataCommands() {
    }

    @Command(name = "put", mixinStandardHelpOptions = true,
            description = "Writes VALUE under KEY (creates or overwrites); prints the new version.")
    static final class Put implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Parameters(index = "0", paramLabel = "TABLE")
        String table;

        @Parameters(index = "1", paramLabel = "KEY")
        String key;

        @Parameters(index = "2", paramLabel = "VALUE")
        String value;

        @Override
        public Integer call() {
            return cli.run("put", (client, out, err) -> {
                long version = client.table(table).write(key, value);
                out.println("OK version " + version);
                return 0;
            });
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true,
            description = {"Prints the value of KEY alone on its line (exit status 1 if there is none).",
                    "Printable UTF-8 shows as text, anything else as 0x and hex, unless --as says otherwise."})
    static final class Get implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Parameters(index = "0", paramLabel = "TABLE")
        String table;

        @Parameters(index = "1", paramLabel = "KEY")
        String key;

        @Option(names = {"-v", "--verbose"}, description = "Also print version, timestamp and size, one per line.")
        boolean verbose;

        @Option(names = "--as", paramLabel = "FORMAT",
                description = "auto (default), text, hex, int64 or double (8 bytes little-endian, as incr stores).")
        String format = "auto";

        @Option(names = "--snapshot", paramLabel = "ID", description = "Read the key as snapshot ID of TABLE holds it.")
        Long snapshot;

        @Override
        public Integer call() {
            return cli.run("get", (client, out, err) -> {
                Values.Format as = Values.Format.parse(format);
                Optional<ObjectValue> object = snapshot == null ? client.table(table).read(key)
                        : SnapshotCommands.find(client, table, snapshot).read(key);
                if (object.isEmpty()) {
                    throw new CliCommand.Failure(CliCommand.EXIT_FAILED, "not found: key '" + key + "' in table '"
                            + table + "'" + (snapshot == null ? "" : " as of snapshot " + snapshot));
                }
                ObjectValue o = object.get();
                out.println(Values.show(o.value(), as));
                if (verbose) {
                    out.println("version:    " + o.version());
                    out.println("timestamp:  " + Instant.ofEpochSecond(o.timestampSeconds()) + " ("
                            + o.timestampSeconds() + ")");
                    out.println("size:       " + o.value().length + " bytes (key " + o.key().length + " bytes)");
                    if (o.value().length == 8) {
                        out.println("as int64:   " + Values.show(o.value(), Values.Format.INT64));
                        out.println("as double:  " + Values.show(o.value(), Values.Format.DOUBLE));
                    }
                }
                return 0;
            });
        }
    }

    @Command(name = "del", mixinStandardHelpOptions = true,
            description = "Removes KEY; prints the removed version, or that there was none (exit status 0 either way).")
    static final class Del implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Parameters(index = "0", paramLabel = "TABLE")
        String table;

        @Parameters(index = "1", paramLabel = "KEY")
        String key;

        @Override
        public Integer call() {
            return cli.run("del", (client, out, err) -> {
                OptionalLong removed = client.table(table).remove(key);
                out.println(removed.isPresent() ? "deleted version " + removed.getAsLong() : "not found (nothing deleted)");
                return 0;
            });
        }
    }

    @Command(name = "incr", mixinStandardHelpOptions = true,
            description = {"Atomically adds DELTA (default 1) to the 8-byte little-endian number under KEY (absent"
                    + " counts as 0) and prints the new value.",
                    "An integer DELTA works on a signed 64-bit integer, a fractional one (1.5, 1e3) on a double."})
    static final class Incr implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Parameters(index = "0", paramLabel = "TABLE")
        String table;

        @Parameters(index = "1", paramLabel = "KEY")
        String key;

        @Parameters(index = "2", paramLabel = "DELTA", arity = "0..1")
        String delta = "1";

        @Override
        public Integer call() {
            return cli.run("incr", (client, out, err) -> {
                Table t = client.table(table);
                try {
                    if (delta.matches("[+-]?\\d+")) {
                        out.println(t.incrementLong(key, parseLong(delta)));
                    } else {
                        out.println(t.incrementDouble(key, parseDouble(delta)));
                    }
                } catch (NotANumberException e) {
                    throw new CliCommand.Failure(CliCommand.EXIT_FAILED, "the value of '" + key + "' in table '"
                            + table + "' is not an 8-byte number; incr works on values it created (or 8 bytes"
                            + " little-endian)");
                }
                return 0;
            });
        }

        private static long parseLong(String text) {
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw new CliCommand.Failure(CliCommand.EXIT_USAGE, "DELTA: '" + text + "' is outside the 64-bit range");
            }
        }

        private static double parseDouble(String text) {
            try {
                double value = Double.parseDouble(text);
                if (Double.isFinite(value)) {
                    return value;
                }
            } catch (NumberFormatException e) {
                // Reported below.
            }
            throw new CliCommand.Failure(CliCommand.EXIT_USAGE, "DELTA: '" + text + "' is not a number");
        }
    }

    @Command(name = "scan", mixinStandardHelpOptions = true,
            description = {"Prints the table's objects, one 'KEY<TAB>VALUE' line each (text, or 0x and hex), in"
                    + " no particular order; the count goes to stderr."})
    static final class Scan implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Parameters(index = "0", paramLabel = "TABLE")
        String table;

        @Option(names = "--limit", paramLabel = "N", description = "Stop after N objects (default: all).")
        long limit = Long.MAX_VALUE;

        @Option(names = {"-v", "--verbose"}, description = "Add a third column: the version.")
        boolean verbose;

        @Option(names = "--snapshot", paramLabel = "ID", description = "List what snapshot ID of TABLE holds.")
        Long snapshot;

        @Override
        public Integer call() {
            return cli.run("scan", (client, out, err) -> {
                if (limit < 0) {
                    throw new CliCommand.Failure(CliCommand.EXIT_USAGE, "--limit: " + limit + " is negative");
                }
                long count = 0;
                try (java.util.stream.Stream<ObjectValue> objects = snapshot == null ? client.table(table).stream()
                        : SnapshotCommands.find(client, table, snapshot).stream()) {
                    java.util.Iterator<ObjectValue> scanner = objects.iterator();
                    while (count < limit && scanner.hasNext()) {
                        ObjectValue o = scanner.next();
                        out.println(Values.show(o.key(), Values.Format.AUTO) + "\t"
                                + Values.show(o.value(), Values.Format.AUTO)
                                + (verbose ? "\t" + o.version() : ""));
                        count++;
                    }
                }
                err.println(count + " object" + (count == 1 ? "" : "s") + (count == limit ? " (limit reached)" : ""));
                return 0;
            });
        }
    }
}
