package io.ferrite.server.cli;

import io.ferrite.client.FerriteClient;
import io.ferrite.client.SnapshotNotFoundException;
import io.ferrite.client.TableSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** The cli's snapshot commands; {@code get} and {@code scan} read a snapshot with {@code --snapshot ID}. */
final class SnapshotCommands {
    private SnapshotCommands() {
    }

    /** The snapshot {@code id} of {@code table}, or a clear failure. */
    static TableSnapshot find(FerriteClient client, String table, long id) {
        for (TableSnapshot snapshot : client.snapshots(table)) {
            if (snapshot.id() == id) {
                return snapshot;
            }
        }
        throw new SnapshotNotFoundException("no snapshot " + id + " of table '" + table + "' (see: cli snapshots "
                + table + ")");
    }

    @Command(name = "snapshot", mixinStandardHelpOptions = true,
            description = "Takes a point-in-time snapshot of TABLE without copying its data; prints its id.")
    static final class Take implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Parameters(index = "0", paramLabel = "TABLE")
        String table;

        @Override
        public Integer call() {
            return cli.run("snapshot", (client, out, err) -> {
                long start = System.nanoTime();
                TableSnapshot snapshot = client.table(table).snapshot();
                long micros = (System.nanoTime() - start) / 1_000;
                out.println("snapshot " + snapshot.id() + " of table " + table + ": " + snapshot.objects() + " objects, "
                        + snapshot.bytes() + " bytes, taken in " + micros / 1_000 + "." + String.format("%03d",
                        micros % 1_000) + " ms");
                return 0;
            });
        }
    }

    @Command(name = "snapshots", mixinStandardHelpOptions = true, description = "Lists the snapshots of TABLE.")
    static final class ListAll implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Parameters(index = "0", paramLabel = "TABLE")
        String table;

        @Override
        public Integer call() {
            return cli.run("snapshots", (client, out, err) -> {
                List<TableSnapshot> snapshots = client.snapshots(table);
                if (snapshots.isEmpty()) {
                    err.println("no snapshots of table " + table);
                    return 0;
                }
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"ID", "CREATED", "STATE", "TAKEN-BY", "OBJECTS", "BYTES"});
                for (TableSnapshot s : snapshots) {
                    rows.add(new String[] {Long.toString(s.id()), s.createdAt().toString(), s.state(),
                            s.automatic() ? "autosave" : "request", Long.toString(s.objects()), Long.toString(s.bytes())});
                }
                AdminCommands.printTable(out, rows);
                return 0;
            });
        }
    }

    @Command(name = "drop-snapshot", mixinStandardHelpOptions = true,
            description = "Drops snapshot ID of TABLE; the memory only it kept is freed by the cleaners.")
    static final class Drop implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Parameters(index = "0", paramLabel = "TABLE")
        String table;

        @Parameters(index = "1", paramLabel = "ID")
        long id;

        @Override
        public Integer call() {
            return cli.run("drop-snapshot", (client, out, err) -> {
                find(client, table, id).drop();
                out.println("dropped snapshot " + id + " of table " + table);
                return 0;
            });
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = {"Restores snapshot ID of TABLE: into a new table (--into NAME), or over TABLE itself"
                    + " (--force: writes the snapshot's objects, then removes the keys it does not hold; not atomic)."})
    static final class Restore implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Parameters(index = "0", paramLabel = "TABLE")
        String table;

        @Parameters(index = "1", paramLabel = "ID", arity = "0..1", description = "The snapshot (or use --as-of).")
        Long id;

        @picocli.CommandLine.Option(names = "--as-of", paramLabel = "TIME",
                description = "The newest snapshot taken at or before TIME (ISO-8601, e.g. 2026-12-07T20:00:00Z).")
        String asOf;

        @picocli.CommandLine.Option(names = "--into", paramLabel = "NAME", description = "A new table to restore into.")
        String into;

        @picocli.CommandLine.Option(names = "--span", paramLabel = "N", description = "Tablets of the new table (default 1).")
        int span = 1;

        @picocli.CommandLine.Option(names = "--force", description = "Restore over TABLE, replacing what it holds now.")
        boolean force;

        @Override
        public Integer call() {
            return cli.run("restore", (client, out, err) -> {
                if (into == null && !force) {
                    throw new CliCommand.Failure(CliCommand.EXIT_USAGE, "restoring over the live table '" + table
                            + "' replaces what it holds: add --force, or restore into a new table with --into NAME");
                }
                if ((id == null) == (asOf == null)) {
                    throw new CliCommand.Failure(CliCommand.EXIT_USAGE, "give a snapshot ID or --as-of TIME (one of them)");
                }
                TableSnapshot snapshot;
                if (asOf != null) {
                    java.time.Instant time;
                    try {
                        time = java.time.Instant.parse(asOf);
                    } catch (java.time.format.DateTimeParseException e) {
                        throw new CliCommand.Failure(CliCommand.EXIT_USAGE, "--as-of: '" + asOf
                                + "' is not an ISO-8601 instant such as 2026-12-07T20:00:00Z");
                    }
                    snapshot = client.snapshotAsOf(table, time).orElseThrow(() -> new CliCommand.Failure(
                            CliCommand.EXIT_FAILED, "no snapshot of table '" + table + "' was taken at or before " + asOf));
                } else {
                    snapshot = find(client, table, id);
                }
                long id = snapshot.id();
                long start = System.nanoTime();
                if (into != null) {
                    long written = snapshot.restoreInto(client, into, span);
                    out.printf("restored snapshot %d of %s into new table %s: %d objects in %.1f s%n", id, table, into,
                            written, (System.nanoTime() - start) / 1e9);
                } else {
                    long[] done = snapshot.restoreInPlace(client);
                    out.printf("restored snapshot %d over table %s: %d objects written, %d keys removed in %.1f s%n", id,
                            table, done[0], done[1], (System.nanoTime() - start) / 1e9);
                }
                return 0;
            });
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Writes snapshot ID of TABLE to FILE (a checksummed format; see SnapshotFile).")
    static final class Export implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Parameters(index = "0", paramLabel = "TABLE")
        String table;

        @Parameters(index = "1", paramLabel = "ID")
        long id;

        @Parameters(index = "2", paramLabel = "FILE")
        java.nio.file.Path file;

        @Override
        public Integer call() {
            return cli.run("export", (client, out, err) -> {
                long start = System.nanoTime();
                var summary = find(client, table, id).exportTo(file);
                out.printf("exported snapshot %d of %s to %s: %d objects, %d value bytes in %.1f s%n", id, table, file,
                        summary.objects(), summary.valueBytes(), (System.nanoTime() - start) / 1e9);
                return 0;
            });
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = "Checks FILE (an export) whole, then creates TABLE and writes its objects into it.")
    static final class Import implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Parameters(index = "0", paramLabel = "FILE")
        java.nio.file.Path file;

        @Parameters(index = "1", paramLabel = "TABLE")
        String table;

        @picocli.CommandLine.Option(names = "--span", paramLabel = "N", description = "Tablets of the new table (default 1).")
        int span = 1;

        @Override
        public Integer call() {
            return cli.run("import", (client, out, err) -> {
                long start = System.nanoTime();
                var summary = client.importTable(table, span, file);
                out.printf("imported %s into new table %s: %d objects, %d value bytes (snapshot %d of %s) in %.1f s%n",
                        file, table, summary.objects(), summary.valueBytes(), summary.snapshotId(), summary.tableName(),
                        (System.nanoTime() - start) / 1e9);
                return 0;
            });
        }
    }

    @Command(name = "autosave", mixinStandardHelpOptions = true,
            description = {"Takes snapshots of TABLE automatically (--every DURATION) and keeps a time machine of them:"
                    + " the newest of each hour for a day, of each day for a month, of each week before; with --budget,"
                    + " the oldest go while its snapshots pin more memory than that. --off stops it."})
    static final class Autosave implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Parameters(index = "0", paramLabel = "TABLE")
        String table;

        @picocli.CommandLine.Option(names = "--every", paramLabel = "DURATION",
                description = "Interval: 90s, 10m, 1h, 1d (at least 1s).")
        String every;

        @picocli.CommandLine.Option(names = "--budget", paramLabel = "SIZE",
                description = "Most memory the table's snapshots may pin, e.g. 512m, 2g (default: no budget).")
        String budget;

        @picocli.CommandLine.Option(names = "--off", description = "Stop taking snapshots (those taken stay).")
        boolean off;

        @Override
        public Integer call() {
            return cli.run("autosave", (client, out, err) -> {
                if (off == (every != null)) {
                    throw new CliCommand.Failure(CliCommand.EXIT_USAGE, "give --every DURATION or --off (one of them)");
                }
                if (off) {
                    client.autosaveOff(table);
                    out.println("autosave of table " + table + " off");
                    return 0;
                }
                java.time.Duration interval = duration(every);
                long budgetBytes = budget == null ? 0 : size(budget);
                client.setAutosave(table, interval, budgetBytes);
                out.println("autosave of table " + table + " every " + every
                        + (budget == null ? "" : ", budget " + budget));
                return 0;
            });
        }

        private static java.time.Duration duration(String text) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h|d)").matcher(text.trim());
            if (!m.matches()) {
                throw new CliCommand.Failure(CliCommand.EXIT_USAGE, "--every: '" + text + "' is not a duration such as"
                        + " 90s, 10m, 1h or 1d");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> java.time.Duration.ofMillis(n);
                case "s" -> java.time.Duration.ofSeconds(n);
                case "m" -> java.time.Duration.ofMinutes(n);
                case "h" -> java.time.Duration.ofHours(n);
                default -> java.time.Duration.ofDays(n);
            };
        }

        private static long size(String text) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)([kKmMgG]?)").matcher(text.trim());
            if (!m.matches()) {
                throw new CliCommand.Failure(CliCommand.EXIT_USAGE, "--budget: '" + text + "' is not a size such as 512m"
                        + " or 2g");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2).toLowerCase(java.util.Locale.ROOT)) {
                case "k" -> n << 10;
                case "m" -> n << 20;
                case "g" -> n << 30;
                default -> n;
            };
        }
    }
}
