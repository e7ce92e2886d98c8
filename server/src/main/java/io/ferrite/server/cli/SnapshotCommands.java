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
                rows.add(new String[] {"ID", "CREATED", "STATE", "OBJECTS", "BYTES"});
                for (TableSnapshot s : snapshots) {
                    rows.add(new String[] {Long.toString(s.id()), s.createdAt().toString(), s.state(),
                            Long.toString(s.objects()), Long.toString(s.bytes())});
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

        @Parameters(index = "1", paramLabel = "ID")
        long id;

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
                TableSnapshot snapshot = find(client, table, id);
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
}
