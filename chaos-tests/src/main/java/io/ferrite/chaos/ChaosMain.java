package io.ferrite.chaos;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./ferrite chaos}: one chaos run, its summary on stdout, its verdict in the exit code. */
@Command(name = "ferrite chaos", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs a Ferrite cluster in containers (3 ZooKeeper members, 2 coordinators, N servers with"
                + " R=2; host networking, one 127.0.0.x address each), a workload recording its history, and"
                + " a seeded schedule of faults; then checks durability (cluster and certified replicas),"
                + " linearizability per key and availability. Exit code 0: no acknowledged write lost, no"
                + " violation, the cluster settled after every fault; 1: a check failed; 2: the run could not"
                + " be made. Needs root (iptables), Docker and the image `./ferrite image` builds."})
public final class ChaosMain implements Callable<Integer> {
    @Option(names = "--duration", description = "How long faults are injected, e.g. 5m, 90s (default: ${DEFAULT-VALUE}).",
            defaultValue = "5m")
    String duration;

    @Option(names = "--seed", description = "Seed of the fault schedule, targets and workload (default: random, printed).")
    Long seed;

    @Option(names = "--faults", description = "Fault kinds, comma-separated, or 'all' (default: all): ${COMPLETION-CANDIDATES}",
            defaultValue = "all")
    String faults;

    @Option(names = "--smoke", description = "A bounded run: each fault kind once, short holds.")
    boolean smoke;

    @Option(names = "--json", description = "Also write the report (JSON) to this file.")
    Path json;

    @Option(names = "--image", description = "Image to run (default: ${DEFAULT-VALUE}).", defaultValue = "ferrite:local")
    String image;

    @Option(names = "--servers", description = "Servers (default: ${DEFAULT-VALUE}).", defaultValue = "5")
    int servers;

    @Option(names = "--threads", description = "Workload processes (default: ${DEFAULT-VALUE}).", defaultValue = "4")
    int threads;

    @Option(names = "--rate", description = "Operations per second per workload process (default: ${DEFAULT-VALUE}).",
            defaultValue = "40")
    double rate;

    @Option(names = "--timeout", description = "Give up (exit 1, containers and rules removed) after this long"
            + " (default: 20m for the smoke, else the duration + 20m).")
    String timeout;

    @Option(names = "--run-dir", description = "Where the history, logs and report go (default: target/chaos/<seed>).")
    Path runDir;

    public static void main(String[] args) {
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        setIfAbsent("org.slf4j.simpleLogger.log.io.ferrite.chaos", "info");
        setIfAbsent("org.slf4j.simpleLogger.showDateTime", "true");
        setIfAbsent("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        System.exit(new CommandLine(new ChaosMain()).execute(args));
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    @Override
    public Integer call() throws Exception {
        long s = seed != null ? seed : ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        List<FaultKind> kinds;
        try {
            kinds = FaultKind.parse(faults);
        } catch (IllegalArgumentException e) {
            System.err.println("ferrite chaos: " + e.getMessage());
            return 2;
        }
        Path dir = runDir != null ? runDir : Path.of("target", "chaos", Long.toString(s));
        ChaosSettings settings = new ChaosSettings(s, parseDuration(duration), smoke, kinds, image, servers, 2, "128m",
                "2m", 48L << 20, 500, threads, rate, 12, 3, dir);
        System.out.printf("chaos: seed %d (re-run with --seed %d%s)%n", s, s, smoke ? " --smoke" : "");
        Duration limit = timeout != null ? parseDuration(timeout)
                : smoke ? Duration.ofMinutes(20) : settings.duration().plusMinutes(20);
        watchdog(limit, s);
        ChaosRun.Outcome outcome;
        try {
            outcome = new ChaosRun(settings, System.out).run();
        } catch (Exception e) {
            System.out.printf("chaos: the run could not be made (seed %d): %s%n", s, e);
            e.printStackTrace(System.err);
            return 2;
        }
        System.out.println(outcome.report().explain());
        outcome.problems().forEach(p -> System.out.println("chaos: problem: " + p));
        System.out.println(outcome.json());
        if (json != null) {
            Files.writeString(json, outcome.json(), StandardCharsets.UTF_8);
        }
        System.out.printf("chaos: %s (seed %d; history, logs and report in %s)%n",
                outcome.passed() ? "PASSED" : "FAILED", s, dir.toAbsolutePath());
        return outcome.passed() ? 0 : 1;
    }

    /** Ends the run if it outlives {@code limit}: a hang is a failure, and CI must get its answer. */
    private static void watchdog(Duration limit, long seed) {
        Thread.ofPlatform().daemon().name("chaos-watchdog").start(() -> {
            try {
                Thread.sleep(limit.toMillis()); // the run's time limit, not synchronization
            } catch (InterruptedException e) {
                return;
            }
            System.out.printf("chaos: FAILED: the run took longer than %s (seed %d); removing its containers and"
                    + " rules%n", limit, seed);
            System.out.flush();
            System.exit(1); // shutdown hooks remove the containers and the iptables chains
        });
    }

    static Duration parseDuration(String text) {
        String t = text.strip().toLowerCase(java.util.Locale.ROOT);
        long n = Long.parseLong(t.replaceAll("[a-z]+$", ""));
        return switch (t.replaceAll("^[0-9]+", "")) {
            case "ms" -> Duration.ofMillis(n);
            case "s", "" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> throw new IllegalArgumentException("duration '" + text + "': use e.g. 90s, 5m, 1h");
        };
    }
}
