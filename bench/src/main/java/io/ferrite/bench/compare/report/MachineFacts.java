package io.ferrite.bench.compare.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * The machine and JVM a comparison ran on, as the report states them.
 *
 * @param cpuModel            the first {@code model name} of {@code /proc/cpuinfo}
 * @param cpus                the {@code processor} entries of {@code /proc/cpuinfo} (hardware threads)
 * @param availableProcessors the processors the benchmark's JVM may use
 * @param memoryTotalBytes    {@code MemTotal} of {@code /proc/meminfo}, or -1 when unknown
 * @param kernel              e.g. {@code Linux 6.8.0-47-generic}
 * @param jdk                 version, VM and vendor of the benchmark's JVM
 */
public record MachineFacts(String cpuModel, int cpus, int availableProcessors, long memoryTotalBytes, String kernel,
                           String jdk) {
    static final String UNKNOWN = "unknown";

    /** Checks that no text is null. */
    public MachineFacts {
        Objects.requireNonNull(cpuModel, "cpuModel");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(jdk, "jdk");
    }

    /**
     * Reads the facts of this machine from {@code /proc}. Where a file cannot be read the fact
     * says so and why ("unknown (/proc/cpuinfo: ...)"); the kernel then comes from the JVM's
     * {@code os.name} and {@code os.version}, the CPU count from the JVM.
     *
     * @return this machine's facts
     */
    public static MachineFacts read() {
        int available = Runtime.getRuntime().availableProcessors();
        ProcFile cpuinfo = ProcFile.read(Path.of("/proc/cpuinfo"));
        ProcFile meminfo = ProcFile.read(Path.of("/proc/meminfo"));
        ProcFile version = ProcFile.read(Path.of("/proc/version"));
        String model = cpuinfo.text() == null ? UNKNOWN + " (" + cpuinfo.problem() + ")" : cpuModel(cpuinfo.text());
        int cpus = cpuinfo.text() == null ? available : processorCount(cpuinfo.text());
        long memory = meminfo.text() == null ? -1 : memoryTotalBytes(meminfo.text());
        String kernel = version.text() == null ? null : kernel(version.text());
        if (kernel == null) {
            kernel = System.getProperty("os.name") + " " + System.getProperty("os.version");
        }
        return new MachineFacts(model, cpus, available, memory, kernel, thisJdk());
    }

    /** The first {@code model name} in {@code /proc/cpuinfo} text, or {@value #UNKNOWN}. */
    static String cpuModel(String cpuinfo) {
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals("model name")) {
                return line.substring(colon + 1).trim();
            }
        }
        return UNKNOWN;
    }

    /** The {@code processor} entries in {@code /proc/cpuinfo} text. */
    static int processorCount(String cpuinfo) {
        int count = 0;
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals("processor")) {
                count++;
            }
        }
        return count;
    }

    /** {@code MemTotal} of {@code /proc/meminfo} text in bytes, or -1 when absent. */
    static long memoryTotalBytes(String meminfo) {
        for (String line : meminfo.split("\n")) {
            if (line.startsWith("MemTotal:")) {
                String[] parts = line.substring("MemTotal:".length()).trim().split("\\s+");
                long kib = Long.parseLong(parts[0]);
                return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? kib * 1024 : kib;
            }
        }
        return -1;
    }

    /** "Linux 6.8.0-47-generic" from {@code /proc/version} text, or null when it has another form. */
    static String kernel(String procVersion) {
        String[] words = procVersion.trim().split("\\s+");
        return words.length >= 3 && words[1].equals("version") ? words[0] + " " + words[2] : null;
    }

    /**
     * One line for the report.
     *
     * @return e.g. "AMD EPYC, 2 CPUs (2 available to the JVM), 23.5 GiB memory, Linux 6.8.0"
     */
    public String describe() {
        String memory = memoryTotalBytes < 0 ? UNKNOWN + " memory"
                : String.format(Locale.ROOT, "%.1f GiB memory", memoryTotalBytes / (1024.0 * 1024 * 1024));
        return String.format(Locale.ROOT, "%s, %d CPUs (%d available to the JVM), %s, %s", cpuModel, cpus,
                availableProcessors, memory, kernel);
    }

    private static String thisJdk() {
        return Runtime.version() + " (" + System.getProperty("java.vm.name") + ", "
                + System.getProperty("java.vendor") + ")";
    }

    /** A file's text, or (text null) why it could not be read. */
    private record ProcFile(String text, String problem) {
        static ProcFile read(Path file) {
            try {
                return new ProcFile(Files.readString(file), null);
            } catch (IOException | SecurityException e) {
                return new ProcFile(null, file + ": " + e);
            }
        }
    }
}
