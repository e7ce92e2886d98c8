package io.ferrite.bench;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.ferrite.backup.BackupService;
import io.ferrite.backup.ReplicaStore;
import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.log.SegmentMemory;
import io.ferrite.master.replication.ReplicaMessages;
import io.ferrite.proto.ReplicationStreams;
import io.ferrite.proto.replication.MessageHeaderDecoder;
import io.ferrite.proto.replication.ReplicaAckDecoder;
import io.ferrite.server.local.LocalCluster;
import io.ferrite.server.local.LocalContext;
import io.ferrite.server.local.StartFailure;
import io.ferrite.server.replication.AeronTransport;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.UnsafeBuffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code ./ferrite bench replication}: write latency and throughput at replication factors 0..3
 * against a {@code ferrite local}-style cluster it starts itself (one per factor; the table on one
 * master, so each write goes to that master and its R backups), and the raw speed of streaming
 * 8 MiB segments from a sender to a backup service over Aeron UDP on loopback and over IPC.
 */
@Command(name = "replication", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Write latency (1 in flight, synchronous) and throughput (64 in flight) of 100-byte values at"
                + " replication factors 0..3 (as many as --servers allow), each against a fresh local cluster of"
                + " separate processes; then raw segment streaming (8 MiB segments) to a backup service over"
                + " Aeron UDP on 127.0.0.1, and over IPC.",
            "%nJSON: [{\"replicas\",\"inFlight\",\"writesPerSec\",\"p50Us\",\"p99Us\",\"p999Us\"}, ...,"
                + " {\"segmentStreamMBps\" (UDP), \"segmentStreamIpcMBps\"}].",
            "%nExit status: 0 ok, 1 a cluster or an operation failed, 2 bad flags.", ""})
public final class ReplicationCommand implements Callable<Integer> {
    static final int SEGMENT_BYTES = 8 << 20;
    static final int CHUNK_BYTES = 1 << 20;
    /** Streams of the IPC streaming run: its own driver, so any ids distinct from each other do. */
    private static final int IPC_REQUESTS = 7201;
    private static final int IPC_REPLIES = 7202;

    @Option(names = "--json", paramLabel = "FILE", required = true, description = "Where to write the JSON results.")
    private Path jsonFile;

    @Option(names = "--quick", description = "3 s JIT warmup, 1 s warmup and 3 s measured per run, 64 segments"
            + " streamed (default: 8 s, 2 s, 10 s, 256 segments).")
    private boolean quick;

    @Option(names = "--servers", paramLabel = "N", defaultValue = "4",
            description = "Servers per cluster; factors go up to min(3, N - 1) (default: ${DEFAULT-VALUE}).")
    private int servers;

    @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "256m",
            description = "Memory for objects of each server (default: ${DEFAULT-VALUE}).")
    private String memory;

    @Option(names = "--replicas", paramLabel = "R[,R]", split = ",",
            description = "Factors to measure (default: 0 up to min(3, servers - 1)).")
    private List<Integer> factors;

    @Option(names = "--segments", paramLabel = "N", description = "Segments to stream (default: 256; 64 with --quick).")
    private Integer segments;

    @Option(names = "--in-flight", paramLabel = "N[,N]", split = ",", defaultValue = "1,64",
            description = "Writes in flight per run: 1 is synchronous, more go asynchronously (default: ${DEFAULT-VALUE}).")
    private List<Integer> inFlights;

    @Option(names = "--transport", paramLabel = "auto|udp", defaultValue = "auto",
            description = "auto: the servers replicate over aeron:ipc through the shared media driver, as"
                + " `ferrite local` does; udp: over UDP on 127.0.0.1, as between machines (default: ${DEFAULT-VALUE}).")
    private String transport;

    @Option(names = "--seconds", paramLabel = "S", description = "Measured seconds per run (default: 10; 3 with --quick).")
    private Integer seconds;

    @Option(names = "--warmup-seconds", paramLabel = "S",
            description = "Warmup seconds before each run (default: 2; 1 with --quick).")
    private Integer warmupSeconds;

    @Option(names = "--jit-warmup-seconds", paramLabel = "S",
            description = "Seconds of writes at 64 in flight on each fresh cluster before its runs, so that the"
                + " client and the servers run compiled code (default: 8; 3 with --quick).")
    private Integer jitWarmupSeconds;

    @Spec
    private CommandSpec spec;

    @Option(names = "--sync-spin-us", paramLabel = "US",
            description = "How long the SDK's synchronous calls spin before parking (default: the SDK's, 200).")
    private Integer syncSpinUs;

    @Override
    public Integer call() throws Exception {
        int jitS = jitWarmupSeconds != null ? jitWarmupSeconds : quick ? 3 : 8;
        int warmupS = warmupSeconds != null ? warmupSeconds : quick ? 1 : 2;
        int measureS = seconds != null ? seconds : quick ? 3 : 10;
        int keyCount = 10_000;
        if (measureS < 1 || warmupS < 0 || jitS < 0) {
            throw new ParameterException(spec.commandLine(),
                    "--seconds must be >= 1, --warmup-seconds and --jit-warmup-seconds >= 0");
        }
        if (!transport.equals("auto") && !transport.equals("udp")) {
            throw new ParameterException(spec.commandLine(), "--transport: '" + transport + "' is not auto or udp");
        }
        for (int load : inFlights) {
            if (load < 1 || load > 4096) {
                throw new ParameterException(spec.commandLine(), "--in-flight: " + load + " is not in 1..4096");
            }
        }
        if (servers < 1 || servers > 16) {
            throw new ParameterException(spec.commandLine(), "--servers: " + servers + " is not in 1..16");
        }
        List<Integer> rs = factors;
        if (rs == null) {
            rs = new ArrayList<>();
            for (int r = 0; r <= Math.min(3, servers - 1); r++) {
                rs.add(r);
            }
        }
        for (int r : rs) {
            if (r < 0 || r > servers - 1) {
                throw new ParameterException(spec.commandLine(), "--replicas: " + r + " needs 0.." + (servers - 1)
                        + " with " + servers + " servers");
            }
        }
        if (segments != null && segments < 1) {
            throw new ParameterException(spec.commandLine(), "--segments: " + segments + " must be at least 1");
        }
        PrintStream out = System.out;
        PrintStream err = System.err;
        List<String> json = new ArrayList<>();
        out.printf("%nreplication benchmark: %d servers, %,d keys of %d B, values of %d B, %d s warmup + %d s per run,"
                + " replication over %s%n%n", servers, keyCount, RpcCommand.KEY_BYTES, RpcCommand.VALUE_BYTES, warmupS,
                measureS, transport.equals("udp") ? "UDP" : "IPC (shared media driver)");
        out.printf("%-9s %9s %12s %10s %10s %10s %8s%n", "replicas", "inFlight", "writes/s", "p50 us", "p99 us",
                "p99.9 us", "errors");
        boolean failed = false;
        for (int r : rs) {
            Path dataDir = Files.createTempDirectory("ferrite-bench-replication-");
            LocalCluster cluster = null;
            try {
                LocalContext context = new LocalContext().servers(servers).memory(memory).replicas(r).dataDir(dataDir)
                        .serverFlags(transport.equals("udp") ? List.of("--replication-ipc", "off") : List.of())
                        .conclude();
                err.printf("bench replication: R=%d: starting %d servers%n", r, servers);
                cluster = LocalCluster.start(context, new PrintStream(java.io.OutputStream.nullOutputStream()));
                try (FerriteClient client = Ferrite.connect(cluster.address(),
                        clientOptions())) {
                    client.createTable(RpcCommand.TABLE, 1);
                    Table table = client.table(RpcCommand.TABLE);
                    byte[][] keys = new byte[keyCount][];
                    for (int i = 0; i < keyCount; i++) {
                        keys[i] = RpcCommand.key(i);
                    }
                    RpcCommand.preload(table, keys);
                    RpcCommand.runAsync(table, "write", keys, RpcCommand.HIGH_IN_FLIGHT, jitS, 1);
                    for (int inFlight : inFlights) {
                        RpcCommand.Result result = inFlight == 1
                                ? RpcCommand.runSync(table, "write", keys, warmupS, measureS)
                                : RpcCommand.runAsync(table, "write", keys, inFlight, warmupS, measureS);
                        failed |= result.errors() > 0;
                        out.printf(Locale.ROOT, "%-9d %9d %12.0f %10.1f %10.1f %10.1f %8d%n", r, inFlight,
                                result.opsPerSec(), result.p50Us(), result.p99Us(), result.p999Us(), result.errors());
                        out.flush();
                        json.add(String.format(Locale.ROOT, "{\"replicas\":%d,\"inFlight\":%d,\"writesPerSec\":%.1f,"
                                + "\"p50Us\":%.1f,\"p99Us\":%.1f,\"p999Us\":%.1f,\"errors\":%d,\"transport\":\"%s\"}",
                                r, inFlight,
                                result.opsPerSec(), result.p50Us(), result.p99Us(), result.p999Us(), result.errors(),
                                r == 0 ? "none" : transport.equals("udp") ? "udp" : "ipc"));
                    }
                }
            } catch (StartFailure e) {
                err.println("bench replication: the cluster did not start: " + e.getMessage());
                return 1;
            } finally {
                if (cluster != null) {
                    cluster.stop();
                }
                RpcCommand.deleteTree(dataDir);
            }
        }
        int count = segments != null ? segments : quick ? 64 : 256;
        double mbps = streamSegments(count, false, err);
        double ipcMbps = streamSegments(count, true, err);
        out.printf(Locale.ROOT, "%nsegment streaming: %d segments of %d MiB, %.0f MB/s over UDP, %.0f MB/s over IPC%n%n",
                count, SEGMENT_BYTES >> 20, mbps, ipcMbps);
        json.add(String.format(Locale.ROOT, "{\"segmentStreamMBps\":%.1f,\"segmentStreamIpcMBps\":%.1f,"
                + "\"segments\":%d}", mbps, ipcMbps, count));
        RpcCommand.writeAtomically(jsonFile, "[\n  " + String.join(",\n  ", json) + "\n]\n");
        out.println("JSON written to " + jsonFile);
        return failed ? 1 : 0;
    }

    private ClientOptions clientOptions() {
        ClientOptions.Builder options = ClientOptions.builder().timeout(Duration.ofSeconds(10));
        if (syncSpinUs != null) {
            options.syncSpin(Duration.ofNanos(syncSpinUs * 1_000L));
        }
        return options.build();
    }

    /**
     * Streams {@code count} segments of 8 MiB (1 MiB appends, one segment in flight) from a
     * sender to a {@link BackupService} (memory-mapped buffers under /dev/shm) over Aeron UDP
     * on 127.0.0.1, or over IPC through the same media driver, each segment freed once
     * acknowledged; returns MB/s (10^6 bytes).
     */
    static double streamSegments(int count, boolean ipc, PrintStream err) throws Exception {
        Path dir = Files.createTempDirectory(Path.of(Files.isDirectory(Path.of("/dev/shm")) ? "/dev/shm" : "/tmp"),
                "ferrite-bench-stream-");
        int backupPort = AeronTransport.udpPort("127.0.0.1", 0);
        int replyPort = AeronTransport.udpPort("127.0.0.1", 0);
        long master = 1L << 32;
        try (AeronTransport transport = AeronTransport.launch(dir.resolve("aeron"), AeronTransport.Options.DEFAULT);
             ReplicaStore store = new ReplicaStore(dir.resolve("buffers"), dir.resolve("backup"), 8);
             BackupService backup = new BackupService(transport.aeron(), List.of(ipc
                     ? new ReplicationStreams.Endpoint(transport.ipcChannel(), IPC_REQUESTS)
                     : new ReplicationStreams.Endpoint(transport.udpChannel("127.0.0.1", backupPort),
                             ReplicationStreams.REQUESTS)), store, () -> 2L << 32, id -> true)) {
            String backupChannel = ipc ? transport.ipcChannel() : transport.udpChannel("127.0.0.1", backupPort);
            String replyChannel = ipc ? transport.ipcChannel() : transport.udpChannel("127.0.0.1", replyPort);
            int requestStream = ipc ? IPC_REQUESTS : ReplicationStreams.REQUESTS;
            int replyStream = ipc ? IPC_REPLIES : ReplicationStreams.REPLIES;
            Aeron aeron = transport.aeron();
            try (ExclusivePublication publication = aeron.addExclusivePublication(backupChannel, requestStream);
                 Subscription replies = aeron.addSubscription(replyChannel, replyStream)) {
                // The master's own encoder (ReplicaMessages), copying each append straight from segment memory.
                ReplicaMessages messages = new ReplicaMessages(CHUNK_BYTES);
                UnsafeBuffer buffer = messages.buffer();
                byte[] segmentBytes = new byte[SEGMENT_BYTES];
                ThreadLocalRandom.current().nextBytes(segmentBytes);
                SegmentMemory source = SegmentMemory.contiguous(MemorySegment.ofArray(segmentBytes));
                long[] acked = {-1, 0}; // segment, length
                MessageHeaderDecoder replyHeader = new MessageHeaderDecoder();
                ReplicaAckDecoder ack = new ReplicaAckDecoder();
                FragmentAssembler handler = new FragmentAssembler((b, o, l, h) -> {
                    replyHeader.wrap(b, o);
                    if (replyHeader.templateId() == ReplicaAckDecoder.TEMPLATE_ID) {
                        ack.wrap(b, o + MessageHeaderDecoder.ENCODED_LENGTH, replyHeader.blockLength(),
                                replyHeader.version());
                        acked[0] = ack.segmentId();
                        acked[1] = ack.bufferedLength();
                    }
                });
                long start = 0;
                for (int s = -2; s < count; s++) { // two segments of warmup
                    if (s == 0) {
                        start = System.nanoTime();
                    }
                    long segment = s + 3;
                    int length = messages.encodeOpen(master, segment, 1, SEGMENT_BYTES,
                            new ReplicationStreams.Endpoint(replyChannel, replyStream));
                    offer(publication, buffer, length);
                    await(replies, handler, acked, segment, 0);
                    for (int offset = 0; offset < SEGMENT_BYTES; offset += CHUNK_BYTES) {
                        length = messages.encodeAppend(master, segment, 1, source, offset, CHUNK_BYTES, 0, 0);
                        offer(publication, buffer, length);
                        replies.poll(handler, 16);
                    }
                    await(replies, handler, acked, segment, SEGMENT_BYTES);
                    offer(publication, buffer, messages.encodeFree(master, segment));
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                err.printf(Locale.ROOT, "bench replication: streamed %d segments over %s in %.2f s (%d rejected)%n",
                        count, ipc ? "IPC" : "UDP", seconds, backup.rejected());
                return (double) count * SEGMENT_BYTES / seconds / 1e6;
            }
        } finally {
            RpcCommand.deleteTree(dir);
        }
    }

    private static void offer(ExclusivePublication publication, UnsafeBuffer buffer, int length) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long result;
        while ((result = publication.offer(buffer, 0, length)) < 0) {
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED
                    || System.nanoTime() > deadline) {
                throw new IllegalStateException("cannot send to the backup: " + Publication.errorString(result));
            }
            Thread.onSpinWait();
        }
    }

    private static void await(Subscription replies, FragmentAssembler handler, long[] acked, long segment,
                              int length) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (acked[0] != segment || acked[1] < length) {
            if (replies.poll(handler, 16) == 0) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no acknowledgement of segment " + segment + " from the backup");
                }
                Thread.onSpinWait();
            }
        }
    }
}
