package io.ferrite.server.local;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One role run by the supervisor as a separate process: its stderr goes to its log file, its
 * stdout is read by a thread that completes {@link #ready()} with the role's
 * {@code READY <role> <address>[ metrics=<address>]} line (later lines, which roles do not
 * print, are copied to the supervisor's stderr).
 */
final class ChildProcess {
    /** Lines of a log shown when a process fails. */
    static final int LOG_TAIL_LINES = 30;

    /** What a READY line announces. */
    record Ready(String address, String metricsAddress) {
        static Ready parse(String line) {
            String[] words = line.trim().split("\\s+");
            String metrics = null;
            for (int i = 3; i < words.length; i++) {
                if (words[i].startsWith("metrics=")) {
                    metrics = words[i].substring("metrics=".length());
                }
            }
            return new Ready(words[2], metrics);
        }
    }

    private final String name;
    private final Process process;
    private final Path log;
    private final CompletableFuture<Ready> ready = new CompletableFuture<>();

    private ChildProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /**
     * Starts the process, its stderr to {@code log} (truncated), and the thread reading its stdout.
     *
     * @param name    the process's name in messages and its log's name ({@code server-0})
     * @param command the command line
     * @param log     where its stderr goes
     * @param echo    where stdout lines after READY go
     * @return the started process
     * @throws StartFailure if it cannot be started
     */
    static ChildProcess start(String name, List<String> command, Path log, PrintStream echo) throws StartFailure {
        Process process;
        try {
            process = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())) // a restart keeps the history
                    .start();
        } catch (IOException e) {
            throw new StartFailure("cannot start " + name + " (" + e.getMessage() + "): " + String.join(" ", command));
        }
        ChildProcess child = new ChildProcess(name, process, log);
        Thread.ofPlatform().daemon().name("local-stdout-" + name).start(() -> child.readStdout(echo));
        return child;
    }

    private void readStdout(PrintStream echo) {
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (!ready.isDone() && line.startsWith("READY ") && line.trim().split("\\s+").length >= 3) {
                    ready.complete(Ready.parse(line));
                } else {
                    echo.println("[" + name + "] " + line);
                }
            }
            ready.completeExceptionally(new IllegalStateException("closed its stdout without a READY line"));
        } catch (IOException e) {
            ready.completeExceptionally(new UncheckedIOException(e));
        }
    }

    String name() {
        return name;
    }

    Path log() {
        return log;
    }

    Process process() {
        return process;
    }

    /** Completes with the READY line's addresses, or exceptionally if stdout ends first. */
    CompletableFuture<Ready> ready() {
        return ready;
    }

    /**
     * Waits for the READY line until a deadline, or until {@code abort} completes.
     *
     * @param deadlineNs {@link System#nanoTime()} deadline
     * @param abort      completes when the supervisor is asked to stop
     * @return the addresses the process announced
     * @throws StartFailure         if the process exited first, or the deadline passed, with its log's last lines
     * @throws InterruptedException if interrupted
     */
    Ready awaitReady(long deadlineNs, CompletableFuture<?> abort) throws StartFailure, InterruptedException {
        try {
            CompletableFuture.anyOf(ready, abort).get(Math.max(0, deadlineNs - System.nanoTime()),
                    TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new StartFailure(name + " did not print READY in time" + logTail());
        } catch (ExecutionException e) {
            // ready failed: the process closed its stdout, i.e. it is exiting.
            throw new StartFailure(name + " " + exitDescription() + " before it was ready" + logTail());
        }
        if (!ready.isDone()) {
            throw new StartFailure("asked to stop while " + name + " was starting");
        }
        return ready.join();
    }

    private String exitDescription() throws InterruptedException {
        if (process.waitFor(5, TimeUnit.SECONDS)) {
            return "exited with status " + process.exitValue();
        }
        return "closed its stdout (still running, pid " + process.pid() + ")";
    }

    /** The log's last lines as a message suffix: ({@code ; last lines of <log>: ...}). */
    String logTail() {
        Deque<String> tail = new ArrayDeque<>();
        try (BufferedReader reader = Files.newBufferedReader(log, StandardCharsets.UTF_8)) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (tail.size() == LOG_TAIL_LINES) {
                    tail.removeFirst();
                }
                tail.addLast(line);
            }
        } catch (IOException e) {
            return "; its log " + log + " cannot be read (" + e.getMessage() + ")";
        }
        if (tail.isEmpty()) {
            return "; its log " + log + " is empty";
        }
        return "; last lines of " + log + ":\n    " + String.join("\n    ", tail);
    }

    /** Asks the process to stop (SIGTERM). */
    void terminate() {
        process.destroy();
    }

    /**
     * Waits for the process to exit until a deadline; then kills it (SIGKILL) and its
     * descendants, and waits for that too.
     *
     * @param deadlineNs {@link System#nanoTime()} deadline
     * @return the exit status, or -1 if it had to be killed
     * @throws InterruptedException if interrupted
     */
    int awaitExitOrKill(long deadlineNs) throws InterruptedException {
        List<ProcessHandle> descendants = process.descendants().toList();
        if (process.waitFor(Math.max(0, deadlineNs - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            descendants.forEach(ProcessHandle::destroyForcibly);
            return process.exitValue();
        }
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        descendants.forEach(ProcessHandle::destroyForcibly);
        return -1;
    }
}
