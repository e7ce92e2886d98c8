package io.ferrite.server.replication;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * A server's Aeron: an embedded media driver (one shared thread that backs off to sleeping
 * when idle, so an idle server costs little CPU on a small machine) with its directory under
 * {@code /dev/shm}, or a driver another process runs; and one client connected to it. Closing
 * stops both (an embedded driver deletes its directory).
 *
 * <p>Channels: backups receive on {@code aeron:udp} (reachable from any machine) and, for
 * masters that share their media driver, on {@code aeron:ipc}: messages then go through the
 * driver's shared memory with no driver thread, socket or copy in between. IPC has no
 * endpoints, so each IPC subscriber claims a stream id of its own ({@link #claimIpcStream()}).
 */
public final class AeronTransport implements AutoCloseable {
    /** Default term length of every publication: 16 MiB, so one message may carry up to 2 MiB. */
    public static final int DEFAULT_TERM_LENGTH = 16 << 20;
    /** Smallest term length: one replication message (up to 1 MiB of log plus a header) must fit in 1/8 of a term. */
    public static final int MIN_TERM_LENGTH = 64 << 10;
    /** Largest term length Aeron allows. */
    public static final int MAX_TERM_LENGTH = 1 << 30;
    /** Default MTU of the UDP channels: large datagrams go far faster on loopback. */
    public static final int DEFAULT_MTU = 32 << 10;
    /** Largest MTU: the largest UDP payload, rounded down to Aeron's 32-byte frame alignment. */
    public static final int MAX_MTU = 65_504;
    /** First stream id handed out for IPC subscriptions (UDP uses {@link io.ferrite.proto.ReplicationStreams}). */
    static final int FIRST_IPC_STREAM = 7200;
    /** Where IPC stream claims live, inside the driver's directory (so they go with the driver). */
    static final String IPC_STREAMS_DIR = "ferrite-ipc-streams";
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
     * needed; with one shared driver, 20 µs everywhere changed nothing measurable. After 50 ms
     * without work the driver parks 1 ms at a time ({@link io.ferrite.backup.DeepeningIdleStrategy}).
     */
    public static final long IDLE_PARK_MAX_US = 100;

    /** Term length and MTU of the channels this transport names; checked by {@link Options#problem}. */
    public record Options(int termLength, int mtu) {
        public static final Options DEFAULT = new Options(DEFAULT_TERM_LENGTH, DEFAULT_MTU);

        /** The problem with these options, or null; names the settings {@code termSetting} and {@code mtuSetting}. */
        public String problem(String termSetting, String mtuSetting) {
            if (Integer.bitCount(termLength) != 1 || termLength < MIN_TERM_LENGTH || termLength > MAX_TERM_LENGTH) {
                return termSetting + ": " + termLength + " is not a power of two from 64k to 1g";
            }
            if (mtu < 4096 || mtu > MAX_MTU || mtu % 32 != 0) {
                return mtuSetting + ": " + mtu + " is not a multiple of 32 from 4096 to " + MAX_MTU;
            }
            if (mtu > termLength / 8) {
                return mtuSetting + ": " + mtu + " exceeds an eighth of the term length (" + termLength + ")";
            }
            return null;
        }

        /** Most bytes of one message on these channels (Aeron's limit: an eighth of a term). */
        public int maxMessageBytes() {
            return Math.min(termLength / 8, 16 << 20);
        }
    }

    private final MediaDriver driver;
    private final Aeron aeron;
    private final Path directory;
    private final Options options;
    private final String driverId;
    private final List<Path> claimedStreams = new java.util.ArrayList<>();

    private AeronTransport(MediaDriver driver, Aeron aeron, Path directory, Options options) {
        this.driver = driver;
        this.aeron = aeron;
        this.directory = directory.toAbsolutePath();
        this.options = options;
        this.driverId = bootId() + ":" + mountNamespace() + ":" + this.directory;
    }

    /**
     * Connects to a media driver that runs elsewhere (another process on this machine, e.g. the
     * one {@code ferrite local} runs for all its servers); closing disconnects only.
     *
     * @throws IllegalStateException naming the directory if no driver is active there
     */
    public static AeronTransport connect(Path directory, Options options) {
        try {
            return new AeronTransport(null, Aeron.connect(new Aeron.Context().aeronDirectoryName(directory.toString())
                    .driverTimeoutMs(10_000)), directory, options);
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
    public static AeronTransport launch(Path directory, Options options) {
        removeStale(directory);
        MediaDriver driver = MediaDriver.launchEmbedded(driverContext(directory));
        try {
            Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
            return new AeronTransport(driver, aeron, Path.of(driver.aeronDirectoryName()), options);
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
                .sharedIdleStrategy(io.ferrite.backup.DeepeningIdleStrategy.backoff(IDLE_PARK_MAX_US))
                .publicationTermBufferLength(DEFAULT_TERM_LENGTH)
                .ipcTermBufferLength(DEFAULT_TERM_LENGTH)
                .mtuLength(DEFAULT_MTU)
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

    public Options options() {
        return options;
    }

    /** {@code aeron:udp?endpoint=host:port} with this transport's MTU and term length. */
    public String udpChannel(String host, int port) {
        String endpoint = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]:" + port : host + ":" + port;
        return "aeron:udp?endpoint=" + endpoint + "|mtu=" + options.mtu() + "|term-length=" + options.termLength();
    }

    /**
     * {@code aeron:ipc} with this transport's term length and MTU (IPC's default MTU, 1408 bytes,
     * cut every append into hundreds of fragments to reassemble).
     */
    public String ipcChannel() {
        return "aeron:ipc?term-length=" + options.termLength() + "|mtu=" + options.mtu();
    }

    /**
     * Identity of the media driver this transport uses: the machine's boot id, the mount
     * namespace and the driver's directory. Two clients with the same identity share the driver,
     * so IPC reaches across them. The mount namespace tells containers apart: each has its own
     * {@code /dev/shm}, and with its process as pid 1 each would otherwise name the same directory.
     */
    public String driverId() {
        return driverId;
    }

    /**
     * Claims a stream id no other client of this media driver holds, for an IPC subscription
     * (IPC has no endpoints: the stream is what tells subscribers apart). Claims are files in the
     * driver's directory that name the claiming process, made under a file lock there; a claim
     * of a process that no longer runs is taken over. Released when this transport closes.
     */
    public int claimIpcStream() throws IOException {
        Path claims = directory.resolve(IPC_STREAMS_DIR);
        java.nio.file.Files.createDirectories(claims);
        String pid = Long.toString(ProcessHandle.current().pid());
        synchronized (AeronTransport.class) { // a file lock excludes other processes, not other threads
            try (java.nio.channels.FileChannel lock = java.nio.channels.FileChannel.open(claims.resolve(".lock"),
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
                lock.lock(); // released when the channel closes
                for (int stream = FIRST_IPC_STREAM; stream < FIRST_IPC_STREAM + 65_536; stream++) {
                    Path claim = claims.resolve(Integer.toString(stream));
                    if (java.nio.file.Files.exists(claim) && !abandoned(claim)) {
                        continue;
                    }
                    java.nio.file.Files.writeString(claim, pid);
                    synchronized (claimedStreams) {
                        claimedStreams.add(claim);
                    }
                    return stream;
                }
            }
        }
        throw new IOException("no free IPC stream id in " + claims);
    }

    private static boolean abandoned(Path claim) {
        try {
            String owner = java.nio.file.Files.readString(claim).trim();
            return ProcessHandle.of(Long.parseLong(owner)).map(ProcessHandle::isAlive).orElse(false) == Boolean.FALSE;
        } catch (IOException | NumberFormatException e) {
            return false; // unreadable: leave it alone and take another id
        }
    }

    /** The mount namespace ({@code mnt:[4026531841]}), or empty where /proc does not tell. */
    private static String mountNamespace() {
        try {
            return java.nio.file.Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return "";
        }
    }

    private static String bootId() {
        try (java.io.BufferedReader reader = java.nio.file.Files.newBufferedReader(
                Path.of("/proc/sys/kernel/random/boot_id"))) {
            String id = reader.readLine();
            if (id != null && !id.isBlank()) {
                return id.trim();
            }
        } catch (IOException e) {
            // not Linux: the host name stands in
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "localhost";
        }
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
        List<Path> claims;
        synchronized (claimedStreams) {
            claims = List.copyOf(claimedStreams);
        }
        for (Path claim : claims) {
            try {
                java.nio.file.Files.deleteIfExists(claim);
            } catch (IOException e) {
                // the driver's directory may be gone already; a stale claim is taken over later
            }
        }
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
