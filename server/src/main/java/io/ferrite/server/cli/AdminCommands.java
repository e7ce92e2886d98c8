package io.ferrite.server.cli;

import io.ferrite.client.ClusterStatus;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.ServerInfo;
import io.ferrite.client.TableInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** The cli's table administration and cluster information commands. */
final class AdminCommands {
    private AdminCommands() {
    }

    @Command(name = "create-table", mixinStandardHelpOptions = true,
            description = "Creates a table spread over --span servers (capped at the servers UP).")
    static final class CreateTable implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Parameters(index = "0", paramLabel = "NAME", description = "The table's name.")
        String name;

        @Option(names = "--span", paramLabel = "N", description = "Tablets, each on its own server (default: 1).")
        int span = 1;

        @Override
        public Integer call() {
            return cli.run("create-table", (client, out, err) -> {
                long id = client.createTable(name, span);
                int tablets = find(client, name).map(TableInfo::tabletCount).orElse(span);
                out.println("created table " + name + " (id " + id + ", " + tablets + " tablet"
                        + (tablets == 1 ? "" : "s") + ")");
                return 0;
            });
        }
    }

    @Command(name = "drop-table", mixinStandardHelpOptions = true, description = "Drops a table and its data.")
    static final class DropTable implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Parameters(index = "0", paramLabel = "NAME", description = "The table's name.")
        String name;

        @Override
        public Integer call() {
            return cli.run("drop-table", (client, out, err) -> {
                client.dropTable(name);
                out.println("dropped table " + name);
                return 0;
            });
        }
    }

    @Command(name = "tables", mixinStandardHelpOptions = true, description = "Lists the tables.")
    static final class Tables implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Override
        public Integer call() {
            return cli.run("tables", (client, out, err) -> {
                List<TableInfo> tables = client.listTables();
                if (tables.isEmpty()) {
                    err.println("no tables");
                    return 0;
                }
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"NAME", "ID", "TABLETS"});
                for (TableInfo table : tables) {
                    rows.add(new String[] {table.name(), Long.toString(table.id()), Integer.toString(table.tabletCount())});
                }
                printTable(out, rows);
                return 0;
            });
        }
    }

    @Command(name = "servers", mixinStandardHelpOptions = true, description = "Lists the servers and their status.")
    static final class Servers implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Override
        public Integer call() {
            return cli.run("servers", (client, out, err) -> {
                List<ServerInfo> servers = client.servers();
                if (servers.isEmpty()) {
                    err.println("no servers");
                    return 0;
                }
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"INDEX", "GEN", "ADDRESS", "STATUS", "SERVICES", "FAILURE-DOMAIN"});
                for (ServerInfo server : servers) {
                    rows.add(new String[] {Integer.toUnsignedString(server.index()),
                            Integer.toUnsignedString(server.generation()), server.address(), server.status(),
                            String.join(",", server.services()),
                            server.failureDomain().isEmpty() ? "-" : server.failureDomain()});
                }
                printTable(out, rows);
                return 0;
            });
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "The cluster's status: leader, coordinators, servers, tables.")
    static final class Status implements Callable<Integer> {
        @ParentCommand
        CliCommand cli;

        @Override
        public Integer call() {
            return cli.run("status", (client, out, err) -> {
                ClusterStatus status = client.clusterStatus();
                out.println("cluster:       " + status.cluster());
                out.println("leader:        " + (status.leader().isEmpty() ? "(none)" : status.leader()));
                out.println("coordinators:  " + String.join(", ", status.coordinators()));
                out.println("servers:       " + status.serversUp() + " up, " + status.serversCrashed() + " crashed");
                out.println("tables:        " + status.tables());
                if (status.tabletsRecovering() > 0 || !status.recoveries().isEmpty()) {
                    out.println("recovering:    " + status.tabletsRecovering() + " tablet(s)");
                }
                for (ClusterStatus.Recovery r : status.recoveries()) {
                    out.printf("  recovery of %d.%d (for %d s): %d/%d partitions, %.1f MB replayed; %s%n",
                            r.masterId() >>> 32, r.masterId() & 0xFFFF_FFFFL,
                            (System.currentTimeMillis() - r.startedAtMillis()) / 1000, r.partitionsDone(),
                            r.partitions(), r.bytesReplayed() / 1e6, r.phase());
                }
                return 0;
            });
        }
    }

    private static Optional<TableInfo> find(FerriteClient client, String name) {
        return client.listTables().stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /** Left-aligned columns, two spaces apart. */
    static void printTable(java.io.PrintWriter out, List<String[]> rows) {
        int[] widths = new int[rows.getFirst().length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(row[i]);
                if (i < row.length - 1) {
                    line.append(" ".repeat(widths[i] - row[i].length() + 2));
                }
            }
            out.println(line);
        }
    }
}
