package io.ferrite.server;

import io.ferrite.server.cli.CliCommand;
import io.ferrite.server.launch.CoordinatorCommand;
import io.ferrite.server.launch.ServerCommand;
import io.ferrite.server.launch.ZooKeeperCommand;
import io.ferrite.server.local.LocalCommand;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the process roles the launcher runs: {@code server}, {@code coordinator} and
 * {@code zookeeper}. Each prints {@code READY <role> <address>} on stdout once it serves, logs
 * to stderr (SLF4J simple; level from {@code FERRITE_LOG_LEVEL}, default info), runs until
 * SIGTERM or Ctrl-C (or the exit of the process given by {@code --exit-with-parent}) and then
 * shuts down cleanly. Exit status: 0 after a clean stop, 1 if the role could not start, 2 for
 * bad configuration (the message names the setting).
 *
 * <p>Also {@code local}, which runs the three roles as a single-machine cluster
 * ({@link LocalCommand}), and {@code cli}, one command against a cluster ({@link CliCommand}).
 */
@Command(name = "ferrite", mixinStandardHelpOptions = true,
        subcommands = {ServerCommand.class, CoordinatorCommand.class, ZooKeeperCommand.class, LocalCommand.class,
                CliCommand.class, CommandLine.HelpCommand.class},
        versionProvider = ServerMain.Version.class,
        description = "Ferrite process roles (server, coordinator, zookeeper), a whole cluster on this machine"
                + " (local), and the command-line client (cli).")
public final class ServerMain implements Callable<Integer> {
    /** The version from the jar's manifest, if it has one. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = ServerMain.class.getPackage().getImplementationVersion();
            return new String[] {"Ferrite " + (version == null ? "(development build)" : version)};
        }
    }

    /** Without a role: usage on stderr, exit status 2. */
    @Override
    public Integer call() {
        new CommandLine(this).usage(System.err);
        return 2;
    }

    public static void main(String[] args) {
        configureLogging();
        System.exit(execute(args));
    }

    /** Parses and runs a role; returns its exit status. */
    public static int execute(String... args) {
        return new CommandLine(new ServerMain()).execute(args);
    }

    /** SLF4J simple: timestamps, to stderr, ZooKeeper's and Curator's chatter at warn. */
    static void configureLogging() {
        String level = System.getenv("FERRITE_LOG_LEVEL");
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", level == null || level.isBlank() ? "info" : level);
        setIfAbsent("org.slf4j.simpleLogger.logFile", "System.err");
        setIfAbsent("org.slf4j.simpleLogger.showDateTime", "true");
        setIfAbsent("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
        setIfAbsent("org.slf4j.simpleLogger.showShortLogName", "true");
        setIfAbsent("org.slf4j.simpleLogger.log.org.apache.zookeeper", "warn");
        setIfAbsent("org.slf4j.simpleLogger.log.org.apache.curator", "warn");
        // Its reconnect attempts log a stack trace each; the lease's own messages say what matters.
        setIfAbsent("org.slf4j.simpleLogger.log.org.apache.zookeeper.ClientCnxn", "error");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
