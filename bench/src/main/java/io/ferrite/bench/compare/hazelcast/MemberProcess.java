package io.ferrite.bench.compare.hazelcast;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One member JVM ({@link HazelcastMemberMain}) as the peer sees it: the process, its command pipe
 * (stdin), its replies (stdout, read by a daemon thread into a queue so every wait has a
 * deadline), and its log (stderr). Requests are serialized: one command, then its reply.
 */
final class MemberProcess {
    private static final String END_OF_OUTPUT = "\u0000end of stdout";
    private static final int LOG_TAIL_LINES = 20;
    private static final long EXIT_AFTER_EOF_MS = 5_000;

    private final int number;
    private final String address;
    private final Path log;
    private final Process process;
    private final Writer commands;
    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();

    private MemberProcess(int number, String address, Path log, Process process) {
        this.number = number;
        this.address = address;
        this.log = log;
        this.process = process;
        this.commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread.ofPlatform().daemon().name("hazelcast-member-" + number + "-stdout").start(this::readReplies);
    }

    /**
     * Launches member {@code number} (from 1) on {@code port}; its stderr goes to {@code log}.
     *
     * @param jvmFlags heap and module flags, placed before the class path
     */
    static MemberProcess launch(int number, String cluster, int port, List<String> members, List<String> jvmFlags,
                                Path log) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(HazelcastMemberMain.class.getName());
        command.add(cluster);
        command.add(Integer.toString(port));
        command.add(String.join(",", members));
        Process process = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.to(log.toFile()))
                .start();
        return new MemberProcess(number, "127.0.0.1:" + port, log, process);
    }

    private void readReplies() {
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                replies.add(line);
            }
        } catch (IOException e) {
            // The pipe broke because the member died; the waiting side reports the exit and the log.
        } finally {
            replies.add(END_OF_OUTPUT);
        }
    }

    int number() {
        return number;
    }

    String address() {
        return address;
    }

    ProcessHandle handle() {
        return process.toHandle();
    }

    /** Waits for the READY line. */
    void awaitReady(long timeoutMs) throws InterruptedException {
        String line = awaitReply(MemberProtocol.READY, timeoutMs, "READY");
        if (!line.equals(MemberProtocol.READY + address)) {
            throw failure("announced '" + line + "' instead of its own address");
        }
    }

    /** Stats after a GC ({@code stats}). */
    synchronized MemberStats stats(long timeoutMs) throws InterruptedException {
        return MemberStats.parse(request(MemberProtocol.STATS, MemberProtocol.STATS_REPLY, timeoutMs));
    }

    /** Whether the cluster has no migration running and every backup in sync ({@code safe}). */
    synchronized boolean clusterSafe(long timeoutMs) throws InterruptedException {
        String reply = request(MemberProtocol.SAFE, MemberProtocol.SAFE_REPLY, timeoutMs);
        return Boolean.parseBoolean(reply.substring(MemberProtocol.SAFE_REPLY.length()).strip());
    }

    /** How many members this member sees ({@code members}). */
    synchronized int clusterSize(long timeoutMs) throws InterruptedException {
        String reply = request(MemberProtocol.MEMBERS, MemberProtocol.MEMBERS_REPLY, timeoutMs);
        return Integer.parseInt(reply.substring(MemberProtocol.MEMBERS_REPLY.length()).strip());
    }

    private String request(String command, String replyPrefix, long timeoutMs) throws InterruptedException {
        try {
            commands.write(command + "\n");
            commands.flush();
        } catch (IOException e) {
            throw failure("could not take command '" + command + "' (" + e.getMessage() + ")");
        }
        return awaitReply(replyPrefix, timeoutMs, "a reply to '" + command + "'");
    }

    /**
     * The next line starting with {@code prefix}. Replies of another kind are skipped: they answer
     * a request whose waiter gave up (timed out or was interrupted).
     */
    private String awaitReply(String prefix, long timeoutMs, String what) throws InterruptedException {
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            String line = replies.poll(deadlineNs - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw failure("sent no " + what + " within " + timeoutMs + " ms");
            }
            if (line.equals(END_OF_OUTPUT)) {
                replies.add(END_OF_OUTPUT); // every later wait fails the same way, at once
                process.waitFor(EXIT_AFTER_EOF_MS, TimeUnit.MILLISECONDS); // so the failure tells its status
                throw failure("closed its output before " + what);
            }
            if (line.startsWith(prefix)) {
                return line;
            }
            if (line.startsWith(MemberProtocol.ERROR_REPLY)) {
                throw failure("answered '" + line + "' instead of " + what);
            }
        }
    }

    /** Sends SIGKILL; does not wait. */
    void kill() {
        process.destroyForcibly();
    }

    /** Waits up to {@code timeoutMs} for the process to exit; whether it did. */
    boolean awaitExit(long timeoutMs) throws InterruptedException {
        try {
            process.onExit().get(timeoutMs, TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    /** Asks the member to exit ({@code exit}, then EOF); a member already gone is fine. */
    void requestExit() {
        try {
            commands.write(MemberProtocol.EXIT + "\n");
            commands.close();
        } catch (IOException e) {
            // Its stdin is closed: the member has exited already, or EOF will end it.
        }
    }

    /** An error naming the member, whether it still runs, and its log's last lines. */
    IllegalStateException failure(String what) {
        String state = process.isAlive() ? "it is still running" : "it exited with status " + process.exitValue();
        return new IllegalStateException("hazelcast member " + number + " (" + address + ", pid " + process.pid() + ") "
                + what + "; " + state + "; last lines of " + log + ":\n" + logTail());
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }
}
