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
}
