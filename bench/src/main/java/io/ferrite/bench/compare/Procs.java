package io.ferrite.bench.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Process facts and CPU placement, from {@code /proc} and {@code taskset}. */
public final class Procs {
    private Procs() {
    }

    /** The resident set of a process in bytes ({@code VmRSS}), 0 if it has exited. */
    public static long rssBytes(ProcessHandle process) throws IOException {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] words = line.split("\\s+");
                    return Long.parseLong(words[1]) * 1024; // kB
                }
            }
            return 0;
        } catch (NoSuchFileException e) {
            return 0;
        }
    }

    /** The summed resident set of processes, in bytes. */
    public static long rssBytes(Collection<ProcessHandle> processes) throws IOException {
        long sum = 0;
        for (ProcessHandle p : processes) {
            sum += rssBytes(p);
        }
        return sum;
    }

    /**
     * Pins every thread of each process (and the threads it starts later, which inherit it) to
     * {@code cpus}, a {@code taskset} list such as {@code 0} or {@code 0-1}.
     *
     * @throws IOException if taskset fails (the message says why)
     */
    public static void pin(Collection<ProcessHandle> processes, String cpus) throws IOException, InterruptedException {
        for (ProcessHandle p : processes) {
            List<String> command = new ArrayList<>(List.of("taskset", "-a", "-p", "-c", cpus, Long.toString(p.pid())));
            Process taskset = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(taskset.getInputStream().readAllBytes()).strip();
            if (!taskset.waitFor(30, TimeUnit.SECONDS) || taskset.exitValue() != 0) {
                throw new IOException("taskset failed for pid " + p.pid() + ": " + out);
            }
        }
    }

    /** A {@code taskset -c cpus} prefix for a command line, or nothing when {@code cpus} is null. */
    public static List<String> pinnedCommand(String cpus, List<String> command) {
        List<String> out = new ArrayList<>();
        if (cpus != null) {
            out.addAll(List.of("taskset", "-c", cpus));
        }
        out.addAll(command);
        return out;
    }

    /** Kills with SIGKILL and waits up to 30 s for the exit. */
    public static void kill9(ProcessHandle process) throws InterruptedException {
        process.destroyForcibly();
        try {
            process.onExit().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("pid " + process.pid() + " did not exit after SIGKILL", e);
        }
    }
}
