package io.ferrite.server.replication;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.BackoffIdleStrategy;

/**
 * A server's Aeron: an embedded media driver (one shared thread that backs off to sleeping
 * when idle, so an idle server costs little CPU on a small machine) with its directory under
 * {@code /dev/shm}, and one client connected to it. Closing stops both and deletes the
 * directory.
 */
public final class AeronTransport implements AutoCloseable {
    /** Term length of every publication: 16 MiB, so one message may carry up to 2 MiB. */
    public static final int TERM_LENGTH = 16 << 20;
    /** MTU of the UDP channels: large datagrams go far faster on loopback. */
    public static final int MTU = 32 << 10;
    /**
     * Receiver window and socket buffers: 2 MiB, or what the kernel allows
     * ({@code net.core.rmem_max} / {@code wmem_max}). Aeron's default window follows the OS's
     * default socket buffer (about 100 KiB here), which held segment streaming to about
     * 300 MB/s; 2 MiB measured about 440 MB/s on this machine.
     */
    public static final int WINDOW_BYTES = windowBytes();

    /**
     * Longest sleep of an idle driver thread: the latency a message meets at each driver it
     * crosses, against the CPU an idle server spends waking up. Measured on 2 cores with four
     * servers, each with its own driver: 50 µs (with the timer slack lowered to 1 µs) made every
     * figure worse than 100 µs, as the idle drivers' wake-ups took the CPU the busy threads
     * needed; with one shared driver, 20 µs everywhere changed nothing measurable.
     */
    public static final long IDLE_PARK_MAX_US = 100;

    private final MediaDriver driver;
    private final Aeron aeron;

    private AeronTransport(MediaDriver driver, Aeron aeron) {
        this.driver = driver;
        this.aeron = aeron;
    }

    /**
     * Connects to a media driver that runs elsewhere (another process on this machine, e.g. the
     * one {@code ferrite local} runs for all its servers); closing disconnects only.
     *
     * @throws IllegalStateException naming the directory if no driver is active there
     */
    public static AeronTransport connect(Path directory) {
        try {
            return new AeronTransport(null, Aeron.connect(new Aeron.Context().aeronDirectoryName(directory.toString())
                    .driverTimeoutMs(10_000)));
        } catch (RuntimeException e) {
            throw new IllegalStateException("aeron-dir: no active Aeron media driver in " + directory + " ("
                    + e.getMessage() + ")", e);
        }
    }

    /**
     * Deletes driver directories next to {@code directory} that a process which no longer runs
     * left behind: names are {@code <prefix>-<pid>-<n>}, and a process killed with SIGKILL
     * cannot delete its own (each holds tens of MB of {@code /dev/shm}).
     */
    static void removeStale(Path directory) {
        Path parent = directory.toAbsolutePath().getParent();
        java.util.regex.Matcher own = STALE_NAME.matcher(directory.getFileName().toString());
        if (parent == null || !own.matches()) {
            return;
        }
        String prefix = own.group(1);
        try (java.util.stream.Stream<Path> siblings = java.nio.file.Files.list(parent)) {
            for (Path sibling : siblings.toList()) {
                java.util.regex.Matcher m = STALE_NAME.matcher(sibling.getFileName().toString());
                if (m.matches() && m.group(1).equals(prefix)
                        && ProcessHandle.of(Long.parseLong(m.group(2))).map(ProcessHandle::isAlive).orElse(false)
                                == Boolean.FALSE) {
                    deleteTree(sibling);
                }
            }
        } catch (IOException | RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(AeronTransport.class).warn("could not remove stale Aeron directories"
                    + " in {}: {}", parent, e.toString());
        }
    }

    private static final java.util.regex.Pattern STALE_NAME = java.util.regex.Pattern.compile("(.+)-(\\d+)-(\\d+)");

    private static void deleteTree(Path root) throws IOException {
        try (java.util.stream.Stream<Path> paths = java.nio.file.Files.walk(root)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.deleteIfExists(path);
            }
        }
    }

    /** Launches the embedded driver in {@code directory} and connects a client. */
    public static AeronTransport launch(Path directory) {
        removeStale(directory);
        MediaDriver driver = MediaDriver.launchEmbedded(driverContext(directory));
        try {
            Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
            return new AeronTransport(driver, aeron);
        } catch (RuntimeException e) {
            driver.close();
            throw e;
        }
    }

    /** Launches only a media driver (for other processes to connect to); the caller closes it. */
    public static MediaDriver launchDriver(Path directory) {
        removeStale(directory);
        return MediaDriver.launch(driverContext(directory));
    }

    private static MediaDriver.Context driverContext(Path directory) {
        return new MediaDriver.Context()
                .aeronDirectoryName(directory.toString())
                .threadingMode(ThreadingMode.SHARED)
                .sharedIdleStrategy(new BackoffIdleStrategy(100, 10, TimeUnit.MICROSECONDS.toNanos(1),
                        TimeUnit.MICROSECONDS.toNanos(IDLE_PARK_MAX_US)))
                .publicationTermBufferLength(TERM_LENGTH)
                .ipcTermBufferLength(TERM_LENGTH)
                .mtuLength(MTU)
                .initialWindowLength(WINDOW_BYTES)
                .socketRcvbufLength(WINDOW_BYTES)
                .socketSndbufLength(WINDOW_BYTES)
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true)
                .spiesSimulateConnection(false);
    }

    public Aeron aeron() {
        return aeron;
    }

    /** {@code aeron:udp?endpoint=host:port} with this transport's MTU and term length. */
    public static String udpChannel(String host, int port) {
        String endpoint = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]:" + port : host + ":" + port;
        return "aeron:udp?endpoint=" + endpoint + "|mtu=" + MTU + "|term-length=" + TERM_LENGTH;
    }

    /** A UDP port free on {@code host} right now (0 in {@code wanted} means pick one). */
    public static int udpPort(String host, int wanted) throws IOException {
        if (wanted != 0) {
            return wanted;
        }
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(host, 0))) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        aeron.close();
        if (driver != null) {
            driver.close();
        }
    }

    private static int windowBytes() {
        long max = 2L << 20;
        for (String limit : new String[] {"/proc/sys/net/core/rmem_max", "/proc/sys/net/core/wmem_max"}) {
            try {
                // Not Files.readString: it sizes its read by the file's length, which procfs reports
                // wrongly (it returned "4" for "4194304" here).
                String value;
                try (java.io.BufferedReader reader = java.nio.file.Files.newBufferedReader(Path.of(limit))) {
                    value = reader.readLine();
                }
                max = Math.min(max, Long.parseLong(value == null ? "" : value.trim()));
            } catch (IOException | NumberFormatException e) {
                return 128 << 10; // unknown limits: Aeron's usual window
            }
        }
        // The window must fit the buffers the kernel grants, and be a power of two.
        return Integer.highestOneBit((int) Math.max(64 << 10, max));
    }
}
