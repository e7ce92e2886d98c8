package io.ferrite.bench;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Entry point of the benchmark jar ({@code ./ferrite bench}): dispatches to the
 * {@link EngineCommand engine}, {@link JmhCommand jmh}, {@link RpcCommand rpc} and
 * {@link ReplicationCommand replication} subcommands. Bad flags print a
 * message and the usage to stderr and exit with status 2.
 */
@Command(name = "ferrite bench", mixinStandardHelpOptions = true, version = "ferrite-bench 0.1.0",
        description = "Ferrite benchmarks.",
        subcommands = {EngineCommand.class, JmhCommand.class, RpcCommand.class, ReplicationCommand.class, RecoveryCommand.class,
            io.ferrite.bench.compare.CompareCommand.class, ServicesCommand.class,
            CommandLine.HelpCommand.class})
public final class BenchMain implements Runnable {
    @Spec
    private CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing subcommand: choose 'engine', 'jmh', 'rpc', 'replication', 'recovery' or 'compare'");
    }

    /** Runs the command line and returns the exit status (0 success, 1 failure, 2 bad usage). */
    public static int execute(String... args) {
        return new CommandLine(new BenchMain())
                .setParameterExceptionHandler(BenchMain::badUsage)
                .execute(args);
    }

    /** Prints the error and a pointer to the help, not the whole help. */
    private static int badUsage(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        PrintWriter err = command.getErr();
        err.println("error: " + e.getMessage());
        err.println("usage: " + command.getHelp().synopsis(0).strip());
        err.println("Try '" + command.getCommandSpec().qualifiedName() + " --help' for more information.");
        return command.getCommandSpec().exitCodeOnInvalidInput();
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }
}
