package io.ferrite.server.cli;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.FerriteException;
import io.ferrite.client.FerriteTimeoutException;
import io.ferrite.client.InvalidArgumentException;
import io.ferrite.server.local.ClusterAddressFile;
import io.ferrite.server.local.LocalContext;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ferrite cli [--cluster ADDRESS] CMD}: one command against a cluster through the Java
 * SDK. Results go to stdout, failures to stderr as one clear line. Exit status: 0 on success,
 * 1 when the command failed (unknown table, missing key, cluster unreachable...), 2 for bad
 * usage or an invalid argument.
 *
 * <p>The cluster address comes from {@code --cluster}, else the {@code cluster-address} file
 * that {@code ferrite local} writes in the data directory given by {@code --data-dir}, else
 * {@code FERRITE_CLUSTER_ADDRESS}, else that file in the default data directory of
 * {@code ferrite local}.
 */
@Command(name = "cli", mixinStandardHelpOptions = true,
        subcommands = {AdminCommands.CreateTable.class, AdminCommands.DropTable.class, AdminCommands.Tables.class,
                AdminCommands.Servers.class, AdminCommands.Status.class, DataCommands.Put.class,
                DataCommands.Get.class, DataCommands.Del.class, DataCommands.Incr.class, DataCommands.Scan.class,
                SnapshotCommands.Take.class, SnapshotCommands.ListAll.class, SnapshotCommands.Drop.class,
                SnapshotCommands.Restore.class, SnapshotCommands.Export.class, SnapshotCommands.Import.class,
                SnapshotCommands.Autosave.class},
        description = {"Runs one command against a Ferrite cluster.",
                "Without --cluster, the address comes from the cluster-address file that 'ferrite local' writes"
                        + " (DATA_DIR/cluster-address; --data-dir DIR picks the directory), or from"
                        + " FERRITE_CLUSTER_ADDRESS when no --data-dir is given.",
                "Exit status: 0 success, 1 failure (unknown table, missing key, cluster unreachable), 2 bad usage."})
public final class CliCommand implements Callable<Integer> {
    /** Exit status when the command failed. */
    public static final int EXIT_FAILED = 1;
    /** Exit status for bad usage or an invalid argument. */
    public static final int EXIT_USAGE = 2;
    /** Default deadline of each SDK call, retries included. */
    public static final long DEFAULT_TIMEOUT_MS = 10_000;
    /** Default wait for a coordinator's first answer: a cluster that is down is reported this soon. */
    public static final long DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
    /** Environment variable with the cluster address, used when {@code --cluster} is absent. */
    public static final String ADDRESS_ENV = "FERRITE_CLUSTER_ADDRESS";
    /** gRPC's status in an SDK message: {@code Status{code=UNAVAILABLE, description=..., cause=...}}. */
    private static final Pattern GRPC_STATUS =
            Pattern.compile("Status\\{code=(\\w+), description=([^,}]*)(, cause=.*)?\\}?\\)?$");

    @Spec
    CommandSpec spec;

    @Option(names = "--cluster", paramLabel = "ADDRESS",
            description = "Coordinators' host:port[,host:port...] (default: see above).")
    String cluster;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Data directory of the 'ferrite local' to talk to (default: data/local in the"
                    + " repository).")
    Path dataDir;

    @Option(names = "--timeout-ms", paramLabel = "MS",
            description = "Deadline of each call, retries included (default: 10000).")
    long timeoutMs = DEFAULT_TIMEOUT_MS;

    @Option(names = "--connect-timeout-ms", paramLabel = "MS",
            description = "How long to wait for a coordinator's first answer before saying the cluster is"
                    + " unreachable (default: 3000).")
    long connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS;

    /** An action against a connected client; returns the exit status. */
    @FunctionalInterface
    interface Action {
        int run(FerriteClient client, PrintWriter out, PrintWriter err);
    }

    /** A failure to report on stderr with an exit status. */
    static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;

        Failure(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    /** Without a command: usage on stderr, exit status 2. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return EXIT_USAGE;
    }

    /**
     * Connects, runs the action, and turns SDK failures into one line on stderr and an exit status.
     *
     * @param command the subcommand's name, for messages
     * @param action  what to do
     * @return the exit status
     */
    int run(String command, Action action) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String address;
        String source;
        try {
            if (timeoutMs < 1) {
                throw new Failure(EXIT_USAGE, "--timeout-ms: " + timeoutMs + " must be positive");
            }
            if (connectTimeoutMs < 1) {
                throw new Failure(EXIT_USAGE, "--connect-timeout-ms: " + connectTimeoutMs + " must be positive");
            }
            String fromEnvironment = System.getenv(ADDRESS_ENV);
            if (cluster != null) {
                address = cluster;
                source = "--cluster";
            } else if (dataDir == null && fromEnvironment != null && !fromEnvironment.isBlank()) {
                address = fromEnvironment;
                source = ADDRESS_ENV;
            } else {
                Path file = (dataDir != null ? dataDir : LocalContext.defaultDataDir()).resolve(ClusterAddressFile.NAME);
                address = readAddressFile(file);
                source = file.toString();
            }
        } catch (Failure e) {
            return report(err, command, e.status, e.getMessage());
        }
        String hint = cluster == null ? "; is './ferrite local' running?" : "";
        try {
            probe(address);
        } catch (InvalidArgumentException e) {
            return report(err, command, EXIT_USAGE, "invalid argument: " + e.getMessage());
        } catch (FerriteException e) {
            return report(err, command, EXIT_FAILED, "cannot reach the cluster at " + address + " (from " + source
                    + ") within " + connectTimeoutMs + " ms: " + brief(e.getMessage()) + hint);
        }
        ClientOptions options = ClientOptions.builder().timeout(Duration.ofMillis(timeoutMs)).build();
        try (FerriteClient client = Ferrite.connect(address, options)) {
            int status = action.run(client, out, err);
            out.flush();
            return status;
        } catch (Failure e) {
            return report(err, command, e.status, e.getMessage());
        } catch (InvalidArgumentException e) {
            return report(err, command, EXIT_USAGE, "invalid argument: " + e.getMessage());
        } catch (FerriteTimeoutException e) {
            return report(err, command, EXIT_FAILED, "no answer from the cluster at " + address + " (from " + source
                    + ") within " + timeoutMs + " ms: " + brief(e.getMessage()) + hint);
        } catch (FerriteException e) {
            return report(err, command, EXIT_FAILED, e.getMessage());
        }
    }

    /**
     * Asks a coordinator for the cluster's status with the short connect timeout, so that a
     * cluster that is down is reported in seconds, while the command itself gets the full
     * {@code --timeout-ms} (a first table creation on cold servers can take seconds).
     */
    private void probe(String address) {
        ClientOptions options = ClientOptions.builder().timeout(Duration.ofMillis(connectTimeoutMs)).build();
        try (FerriteClient probe = Ferrite.connect(address, options)) {
            probe.clusterStatus();
        }
    }

    private static String readAddressFile(Path file) {
        if (!Files.exists(file)) {
            throw new Failure(EXIT_FAILED, "no cluster address: " + file + " does not exist; start a cluster with"
                    + " './ferrite local' (it writes that file), or give --cluster HOST:PORT");
        }
        try {
            return ClusterAddressFile.read(file);
        } catch (IOException | IllegalStateException e) {
            throw new Failure(EXIT_FAILED, "no cluster address: cannot read " + file + " (" + e.getMessage() + ")");
        }
    }

    /**
     * The first line of an SDK message, with gRPC's {@code Status{code=..., description=...,
     * cause=<stack trace>}} shortened to the code and description (and "connection refused").
     */
    static String brief(String message) {
        if (message == null) {
            return "(no detail)";
        }
        String first = message.lines().findFirst().orElse("");
        Matcher status = GRPC_STATUS.matcher(first);
        if (!status.find()) {
            return first;
        }
        String refused = message.contains("Connection refused") ? ", connection refused" : "";
        return first.substring(0, status.start()) + status.group(1) + " (" + status.group(2) + refused + ")"
                + (first.contains("(") ? ")" : "");
    }

    private static int report(PrintWriter err, String command, int status, String message) {
        err.println("ferrite cli " + command + ": " + message);
        err.flush();
        return status;
    }
}
