package io.ferrite.bench;

import io.ferrite.bench.jmh.EngineBenchmark;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./ferrite bench jmh}: runs the JMH micro-benchmarks in forked JVMs. */
@Command(name = "jmh", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Runs the JMH benchmarks (default: EngineBenchmark read and write, ops/s).",
            "%nExit status: 0 ok, 1 the run failed, 2 bad flags.", ""})
public final class JmhCommand implements Callable<Integer> {
    /** JVM flags every forked benchmark JVM needs (the launcher's flags, and its heap). */
    public static final String[] FORK_JVM_ARGS = {
        "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xmx3g"};

    @Spec
    private CommandSpec spec;

    @Option(names = "--quick", description = "Fewer, shorter iterations (2 x 1 s warm-up, 3 x 1 s measured).")
    private boolean quick;

    @Option(names = {"-f", "--forks"}, paramLabel = "N", defaultValue = "1",
            description = "Forked JVMs per benchmark; 0 runs in this JVM (default: ${DEFAULT-VALUE}).")
    private int forks;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write JMH's JSON results here.")
    private Path jsonFile;

    @Option(names = {"-i", "--iterations"}, paramLabel = "N", description = "Measurement iterations (default: 5; quick 3).")
    private Integer iterations;

    @Option(names = {"-wi", "--warmup-iterations"}, paramLabel = "N",
            description = "Warm-up iterations (default: 5; quick 2).")
    private Integer warmupIterations;

    @Option(names = {"-r", "--time"}, paramLabel = "SECONDS",
            description = "Seconds per iteration (default: 2; quick 1).")
    private Integer iterationSeconds;

    @Option(names = "--include", paramLabel = "REGEX",
            description = "Benchmarks to run, a regular expression over their names (default: EngineBenchmark).")
    private String include;

    @Override
    public Integer call() {
        if (forks < 0 || forks > 100) {
            throw new ParameterException(spec.commandLine(), "--forks: " + forks + " is outside 0-100");
        }
        int measured = orDefault(iterations, quick ? 3 : 5, "--iterations", 1);
        int warmups = orDefault(warmupIterations, quick ? 2 : 5, "--warmup-iterations", 0);
        int seconds = orDefault(iterationSeconds, quick ? 1 : 2, "--time", 1);
        String pattern = include != null ? include : EngineBenchmark.class.getName().replace(".", "\\.") + "\\.";
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(pattern)
                .forks(forks)
                .jvmArgsAppend(FORK_JVM_ARGS)
                .warmupIterations(warmups)
                .warmupTime(TimeValue.seconds(seconds))
                .measurementIterations(measured)
                .measurementTime(TimeValue.seconds(seconds))
                .shouldFailOnError(true);
        if (jsonFile != null) {
            options.resultFormat(ResultFormatType.JSON).result(jsonFile.toAbsolutePath().toString());
        }
        Collection<RunResult> results;
        try {
            results = new Runner(options.build()).run();
        } catch (NoBenchmarksException e) {
            System.err.println("jmh: no benchmark matches '" + pattern + "'");
            return 1;
        } catch (RunnerException e) {
            System.err.println("jmh failed: " + (e.getMessage() != null ? e.getMessage() : e));
            if (e.getCause() != null) {
                e.getCause().printStackTrace();
            }
            return 1;
        }
        if (results.isEmpty()) {
            System.err.println("jmh: no benchmark matching '" + pattern + "' produced a result");
            return 1;
        }
        System.out.println();
        for (RunResult result : results) {
            System.out.printf(Locale.ROOT, "%-50s %,14.0f ± %,.0f %s%n", result.getParams().getBenchmark(),
                    result.getPrimaryResult().getScore(), result.getPrimaryResult().getScoreError(),
                    result.getPrimaryResult().getScoreUnit());
        }
        if (jsonFile != null) {
            System.out.println("JSON in " + jsonFile.toAbsolutePath());
        }
        return 0;
    }

    private int orDefault(Integer value, int fallback, String name, int min) {
        if (value == null) {
            return fallback;
        }
        if (value < min) {
            throw new ParameterException(spec.commandLine(), name + ": " + value + " is below " + min);
        }
        return value;
    }
}
