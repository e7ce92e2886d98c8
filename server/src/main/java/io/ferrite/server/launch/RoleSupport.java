package io.ferrite.server.launch;

import io.ferrite.server.config.Settings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * What every role's command shares: settings from flags, environment and file; the READY line;
 * and running until the JVM is asked to stop (SIGTERM, Ctrl-C), then closing cleanly before
 * the JVM exits.
 */
final class RoleSupport {
    /** Exit status: bad configuration (the message names the setting). */
    static final int EXIT_CONFIG = 2;
    /** Exit status: the role could not start (port in use, ZooKeeper unreachable...). */
    static final int EXIT_START = 1;
    /** How long the JVM's shutdown waits for the role to close. */
    private static final long CLOSE_WAIT_MS = 30_000;

    private RoleSupport() {
    }

    /** The flags given on the command line: every String option with a value, by long name without dashes. */
    static Map<String, String> flags(CommandSpec spec) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (OptionSpec option : spec.options()) {
            Object value = option.getValue();
            String name = option.longestName();
            if (value instanceof String s && name.startsWith("--") && !name.equals("--config")) {
                flags.put(name.substring(2), s);
            }
        }
        return flags;
    }

    static Settings settings(CommandSpec spec, Collection<String> known, String configFile) {
        return Settings.load(known, flags(spec), System.getenv(), configFile == null ? null : Path.of(configFile));
    }

    /**
     * Announces on stdout that the role serves: {@code READY <role> <address>}, followed by
     * {@code metrics=<host:port>} when the Prometheus endpoint is on. Nothing else is written
     * to stdout (logs go to stderr), so a supervisor can wait for this line.
     */
    static void ready(String role, String address, String metricsAddress) {
        PrintStream out = System.out;
        out.println("READY " + role + " " + address + (metricsAddress == null ? "" : " metrics=" + metricsAddress));
        out.flush();
    }

    static void failed(String role, String message) {
        System.err.println("ferrite " + role + ": " + message);
        System.err.flush();
    }

    /**
     * Lets the JVM's shutdown (SIGTERM, Ctrl-C) end {@link #awaitStop()}, waits for the role to
     * close, and then ends the process with the role's exit status (0 after a clean stop,
     * rather than the JVM's 143 or 130 for a signal), so a supervisor can tell a clean stop from
     * a failed one.
     */
    static final class Lifecycle {
        private final CountDownLatch stop = new CountDownLatch(1);
        private final CountDownLatch done = new CountDownLatch(1);
        private volatile int status;

        Lifecycle(String role) {
            Thread hook = Thread.ofPlatform().name("ferrite-" + role + "-shutdown").unstarted(() -> {
                stop.countDown();
                try {
                    if (done.await(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS)) {
                        System.err.flush();
                        System.out.flush();
                        Runtime.getRuntime().halt(status);
                    }
                    failed(role, "did not stop within " + CLOSE_WAIT_MS + " ms");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Runtime.getRuntime().addShutdownHook(hook);
        }

        void awaitStop() throws InterruptedException {
            stop.await();
        }

        /** The role has closed with this exit status: the JVM may finish exiting. */
        void stopped(int exitStatus) {
            status = exitStatus;
            done.countDown();
        }
    }
}
