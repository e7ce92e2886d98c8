package io.ferrite.server.launch;

import io.ferrite.server.config.Settings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * What every role's command shares: settings from flags, environment and file; the READY line;
 * and running until the JVM is asked to stop (SIGTERM, Ctrl-C, or the exit of the process
 * named by {@code --exit-with-parent}), then closing cleanly before the JVM exits. The local
 * supervisor ({@code io.ferrite.server.local}) uses the same READY line and lifecycle.
 */
public final class RoleSupport {
    /** Exit status: bad configuration (the message names the setting). */
    public static final int EXIT_CONFIG = 2;
    /** Exit status: the role could not start (port in use, ZooKeeper unreachable...). */
    public static final int EXIT_START = 1;
    /** How long the JVM's shutdown waits for a role to close, by default. */
    public static final long DEFAULT_CLOSE_WAIT_MS = 30_000;

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

    /** A role's work once configured: start, announce {@link #ready}, wait for the stop, close. */
    @FunctionalInterface
    interface Serving<C> {
        void serve(C config, Lifecycle lifecycle) throws java.io.IOException, InterruptedException;
    }

    /**
     * Runs a role: reads its configuration (a bad setting: a one-line message and
     * {@link #EXIT_CONFIG}), ties it to its parent if asked, serves until stopped (a failure to
     * start or serve: a one-line message and {@link #EXIT_START}), and lets the JVM exit with
     * that status.
     *
     * @param role      the role's name, for messages
     * @param watch     the {@code --exit-with-parent} option
     * @param lingerMs  how long the role goes on serving after its parent exits
     * @param configure reads and checks the configuration; throws IllegalArgumentException naming a bad setting
     * @param serving   the role's work
     * @return the exit status
     */
    static <C> int run(String role, ParentWatch watch, long lingerMs, java.util.function.Supplier<C> configure,
                       Serving<C> serving) throws InterruptedException {
        C config;
        try {
            config = configure.get();
        } catch (IllegalArgumentException e) {
            failed(role, e.getMessage());
            return EXIT_CONFIG;
        }
        int status = 0;
        Lifecycle lifecycle = new Lifecycle(role);
        watch.watch(role, lingerMs);
        try {
            serving.serve(config, lifecycle);
        } catch (java.io.IOException | RuntimeException e) {
            failed(role, e.getMessage());
            status = EXIT_START;
        } finally {
            lifecycle.stopped(status);
        }
        return status;
    }

    /**
     * Announces on stdout that the role serves: {@code READY <role> <address>}, followed by
     * {@code metrics=<host:port>} when the Prometheus endpoint is on. Nothing else is written
     * to stdout (logs go to stderr), so a supervisor can wait for this line.
     */
    public static void ready(String role, String address, String metricsAddress) {
        PrintStream out = System.out;
        out.println("READY " + role + " " + address + (metricsAddress == null ? "" : " metrics=" + metricsAddress));
        out.flush();
    }

    /** A one-line failure message on stderr: {@code ferrite <role>: <message>}. */
    public static void failed(String role, String message) {
        System.err.println("ferrite " + role + ": " + message);
        System.err.flush();
    }

    /**
     * Lets the JVM's shutdown (SIGTERM, Ctrl-C) end {@link #awaitStop()}, waits for the role to
     * close, and then ends the process with the role's exit status (0 after a clean stop,
     * rather than the JVM's 143 or 130 for a signal), so a supervisor can tell a clean stop from
     * a failed one.
     */
    public static final class Lifecycle {
        private final CountDownLatch stop = new CountDownLatch(1);
        private final CompletableFuture<Void> stopRequested = new CompletableFuture<>();
        private final CountDownLatch done = new CountDownLatch(1);
        private volatile int status;

        /**
         * Installs the shutdown hook; the JVM's shutdown waits up to
         * {@link #DEFAULT_CLOSE_WAIT_MS} for {@link #stopped(int)}.
         *
         * @param role the role's name, for messages
         */
        public Lifecycle(String role) {
            this(role, DEFAULT_CLOSE_WAIT_MS);
        }

        /**
         * Installs the shutdown hook.
         *
         * @param role        the role's name, for messages
         * @param closeWaitMs how long the JVM's shutdown waits for {@link #stopped(int)}
         */
        public Lifecycle(String role, long closeWaitMs) {
            Thread hook = Thread.ofPlatform().name("ferrite-" + role + "-shutdown").unstarted(() -> {
                requestStop();
                try {
                    if (done.await(closeWaitMs, TimeUnit.MILLISECONDS)) {
                        System.err.flush();
                        System.out.flush();
                        Runtime.getRuntime().halt(status);
                    }
                    failed(role, "did not stop within " + closeWaitMs + " ms");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Runtime.getRuntime().addShutdownHook(hook);
        }

        /**
         * Waits until the JVM is asked to stop, or {@link #requestStop()}.
         *
         * @throws InterruptedException if interrupted
         */
        public void awaitStop() throws InterruptedException {
            stop.await();
        }

        /** Ends {@link #awaitStop()} from inside the process (a failure it cannot serve through). */
        public void requestStop() {
            stop.countDown();
            stopRequested.complete(null);
        }

        /**
         * Completes when the process is asked to stop: for waits that should end early then.
         *
         * @return the future (never failed)
         */
        public CompletableFuture<Void> stopRequested() {
            return stopRequested;
        }

        /**
         * The role has closed with this exit status: the JVM may finish exiting.
         *
         * @param exitStatus the process's exit status
         */
        public void stopped(int exitStatus) {
            status = exitStatus;
            done.countDown();
        }
    }
}
