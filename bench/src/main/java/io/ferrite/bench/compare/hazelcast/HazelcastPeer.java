package io.ferrite.bench.compare.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.BuildInfoProvider;
import com.hazelcast.map.IMap;
import io.ferrite.bench.compare.PeerSystem;
import io.ferrite.bench.compare.Procs;
import io.ferrite.bench.compare.RecordCodec;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import site.ycsb.ByteIterator;

/**
 * A Hazelcast cluster of member JVMs on 127.0.0.1 ({@link HazelcastMemberMain}), one
 * synchronous backup per entry, values in BINARY form. The peer keeps its own smart client (for
 * {@link #clear()} and {@link #killOneMember}); the YCSB client JVM connects with
 * {@link HazelcastYcsbClient}.
 */
public final class HazelcastPeer implements PeerSystem {
    /**
     * The JVM flags of every Hazelcast JVM, members and clients alike (give them to the YCSB
     * client JVM too): the module access Hazelcast's documentation asks for on Java 9 and later,
     * and, on Java 23 and later, leave for its {@code sun.misc.Unsafe} memory access, which Java 25
     * allows with a warning on stderr and later releases are to refuse by default (JEP 471).
     */
    public static final List<String> JVM_FLAGS = List.of(
            "--sun-misc-unsafe-memory-access=allow",
            "--add-modules", "java.se",
            "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang=ALL-UNNAMED",
            "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens", "java.management/sun.management=ALL-UNNAMED",
            "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");

    /** How long a member has to print READY, and the cluster to form, from its launch. */
    static final long START_TIMEOUT_MS = 120_000;
    /** How long a member has to answer one command (a stats request runs two full GCs). */
    static final long REQUEST_TIMEOUT_MS = 60_000;
    /** How long a member has to exit after {@code exit}, and after SIGKILL. */
    static final long STOP_TIMEOUT_MS = 30_000;
    /** How long {@link #killOneMember} waits for every key and for a safe cluster. */
    static final long RECOVERY_DEADLINE_MS = 600_000;

    private static final long POLL_MS = 20;
    private static final int READ_BATCH_KEYS = 1000; // keys per getAll
    private static final Pattern HEAP = Pattern.compile("[1-9][0-9]*[kKmMgG]?");

    private final String cluster;
    private final String heap;
    private final Path workDir;
    private final PrintStream progress;
    private final List<String> addresses;
    private final List<MemberProcess> members = new ArrayList<>();
    private HazelcastInstance client;

    private HazelcastPeer(String cluster, String heap, Path workDir, PrintStream progress, List<String> addresses) {
        this.cluster = cluster;
        this.heap = heap;
        this.workDir = workDir;
        this.progress = progress;
        this.addresses = addresses;
    }

    /**
     * Starts a cluster of {@code members} member JVMs and waits until every member has joined and
     * the cluster is safe.
     *
     * @param heap     each member's {@code -Xmx}, e.g. {@code 4g}
     * @param workDir  where the members' logs go (created; deleted by {@link #close()})
     * @param progress receives one line per member started
     * @throws IllegalStateException if a member does not start (the message names it and quotes its log)
     */
    public static HazelcastPeer start(int members, String heap, Path workDir, PrintStream progress)
            throws IOException, InterruptedException {
        if (members < 1) {
            throw new IllegalArgumentException("members must be at least 1: " + members);
        }
        if (!HEAP.matcher(heap).matches()) {
            throw new IllegalArgumentException("heap must be an -Xmx size such as 4g or 512m: " + heap);
        }
        Files.createDirectories(workDir);
        List<String> addresses = new ArrayList<>();
        for (int port : freePorts(members)) {
            addresses.add("127.0.0.1:" + port);
        }
        HazelcastPeer peer = new HazelcastPeer("ferrite-compare-" + ProcessHandle.current().pid(), heap, workDir,
                progress, List.copyOf(addresses));
        try {
            peer.launchMembers();
            return peer;
        } catch (Throwable e) {
            try {
                peer.close();
            } catch (IOException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    /**
     * Launches the members one after another, each joining those before it: on two cores, JVMs
     * booting side by side only slow each other down, and Hazelcast's master batches concurrent
     * joins (waiting up to {@code hazelcast.max.wait.seconds.before.join}, 20 s).
     */
    private void launchMembers() throws IOException, InterruptedException {
        long startNs = System.nanoTime();
        for (int i = 0; i < addresses.size(); i++) {
            long launchNs = System.nanoTime();
            MemberProcess member = launch(i);
            member.awaitReady(START_TIMEOUT_MS);
            progress.printf(Locale.ROOT, "hazelcast: member %d/%d ready at %s (pid %d) after %.1f s%n", member.number(),
                    addresses.size(), member.address(), member.handle().pid(), seconds(System.nanoTime() - launchNs));
        }
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
        MemberProcess first = members.getFirst();
        while (first.clusterSize(REQUEST_TIMEOUT_MS) != members.size() || !first.clusterSafe(REQUEST_TIMEOUT_MS)) {
            if (System.nanoTime() - deadlineNs > 0) {
                throw first.failure("saw no safe cluster of " + members.size() + " members within "
                        + START_TIMEOUT_MS + " ms");
            }
            Thread.sleep(POLL_MS);
        }
        progress.printf(Locale.ROOT, "hazelcast: %d members joined and safe after %.1f s%n", members.size(),
                seconds(System.nanoTime() - startNs));
    }

    private MemberProcess launch(int index) throws IOException {
        List<String> flags = new ArrayList<>();
        flags.add("-Xmx" + heap);
        flags.addAll(JVM_FLAGS);
        int port = Integer.parseInt(addresses.get(index).substring(addresses.get(index).indexOf(':') + 1));
        MemberProcess member = MemberProcess.launch(index + 1, cluster, port, addresses, flags,
                workDir.resolve("member-" + (index + 1) + ".log"));
        members.add(member);
        return member;
    }

    @Override
    public String name() {
        return "hazelcast";
    }

    @Override
    public String description() {
        return "Hazelcast " + BuildInfoProvider.getBuildInfo().getVersion() + ", " + addresses.size()
                + " members, map " + HazelcastMemberMain.MAP_NAME + " backup-count " + HazelcastMemberMain.BACKUP_COUNT
                + " (sync), async-backup-count 0, in-memory-format " + HazelcastMemberMain.IN_MEMORY_FORMAT
                + ", -Xmx" + heap + " per member, smart client";
    }

    @Override
    public String ycsbBinding() {
        return HazelcastYcsbClient.class.getName();
    }

    @Override
    public Map<String, String> ycsbProperties() {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put(HazelcastYcsbClient.MEMBERS, String.join(",", liveAddresses()));
        properties.put(HazelcastYcsbClient.CLUSTER, cluster);
        return properties;
    }

    @Override
    public List<ProcessHandle> processes() {
        List<ProcessHandle> handles = new ArrayList<>();
        for (MemberProcess member : members) {
            handles.add(member.handle());
        }
        return handles;
    }

    @Override
    public void clear() {
        client().getMap(HazelcastMemberMain.MAP_NAME).clear();
    }

    /**
     * {@code rss}: the members' summed resident sets, read before the GC below (the footprint while
     * serving); {@code heap_used}: summed heap in use after two full GCs; {@code owned_entry_cost} and
     * {@code backup_entry_cost}: Hazelcast's summed memory cost of the primary and backup entries.
     */
    @Override
    public Map<String, Long> memory() throws IOException, InterruptedException {
        long rss = 0;
        for (MemberProcess member : members) {
            rss += Procs.rssBytes(member.handle());
        }
        long heapUsed = 0;
        long owned = 0;
        long backup = 0;
        for (MemberProcess member : members) {
            MemberStats stats = member.stats(REQUEST_TIMEOUT_MS);
            heapUsed += stats.heapUsed();
            owned += stats.ownedEntryMemoryCost();
            backup += stats.backupEntryMemoryCost();
        }
        Map<String, Long> memory = new LinkedHashMap<>();
        memory.put("rss", rss);
        memory.put("heap_used", heapUsed);
        memory.put("owned_entry_cost", owned);
        memory.put("backup_entry_cost", backup);
        return memory;
    }

    /**
     * Kills the last live member with SIGKILL and times the recovery from the kill: until every
     * key reads back through the peer's client as a whole record (one that decodes; its size may
     * differ from the load's after W3),
     * and until a surviving member sees the victim gone and the cluster safe. Then reads every key
     * once more and counts those absent. Keys are read in {@code getAll} batches of
     * 1000, each pass retrying what the last could not read. The victim is
     * the youngest member, never the master; the smart client is connected to every member, so
     * none is spared that. The victim stays dead ({@link #processes()} drops it).
     *
     * @param keys        every key loaded into the YCSB table
     * @throws IllegalStateException if recovery takes longer than 10 minutes
     */
    public MemberLoss killOneMember(List<String> keys) throws InterruptedException {
        if (members.size() < 2) {
            throw new IllegalStateException("killing a member needs 2 live members; " + members.size() + " live");
        }
        IMap<String, byte[]> map = client().getMap(HazelcastMemberMain.MAP_NAME);
        MemberProcess victim = members.getLast();
        MemberProcess survivor = members.getFirst();
        MemberStats before = victim.stats(REQUEST_TIMEOUT_MS);

        long killNs = System.nanoTime();
        victim.kill();
        members.remove(victim);
        long deadlineNs = killNs + TimeUnit.MILLISECONDS.toNanos(RECOVERY_DEADLINE_MS);
        int survivors = members.size();
        FutureTask<Recovered> recovery = new FutureTask<>(() -> awaitSafe(survivor, survivors, killNs, deadlineNs));
        Thread.ofPlatform().daemon().name("hazelcast-recovery-poll").start(recovery);

        long serviceNs;
        Recovered recovered;
        long lost;
        try {
            serviceNs = awaitEveryKey(map, keys, recovery, killNs, deadlineNs);
            recovered = await(recovery, deadlineNs);
            lost = countLost(map, keys, deadlineNs);
        } finally {
            // A no-op once it is done; otherwise stops the poll before anyone else talks to the survivor.
            recovery.cancel(true);
        }
        if (!victim.awaitExit(STOP_TIMEOUT_MS)) {
            throw victim.failure("did not exit within " + STOP_TIMEOUT_MS + " ms of SIGKILL");
        }
        MemberLoss loss = new MemberLoss(serviceNs < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(serviceNs),
                TimeUnit.NANOSECONDS.toMillis(recovered.safeNs()), before.ownedEntries(),
                before.ownedEntryMemoryCost(), lost);
        progress.printf(Locale.ROOT, "hazelcast: killed member %d (%d entries, %d bytes); gone from the cluster after "
                        + "%d ms, every key read back after %d ms, cluster safe after %d ms, %d keys lost%n",
                victim.number(), loss.victimEntries(), loss.victimEntryBytes(),
                TimeUnit.NANOSECONDS.toMillis(recovered.detectedNs()), loss.serviceMs(), loss.safeMs(), lost);
        return loss;
    }

    /** Times since the kill: until the survivor saw the victim gone, and until it reported the cluster safe. */
    private record Recovered(long detectedNs, long safeNs) {
    }

    private static Recovered awaitSafe(MemberProcess survivor, int survivors, long killNs, long deadlineNs)
            throws InterruptedException {
        while (survivor.clusterSize(REQUEST_TIMEOUT_MS) != survivors) {
            checkDeadline(deadlineNs, "the survivors still count the killed member", null);
            Thread.sleep(POLL_MS);
        }
        long detectedNs = System.nanoTime() - killNs;
        while (!survivor.clusterSafe(REQUEST_TIMEOUT_MS)) {
            checkDeadline(deadlineNs, "the cluster is still not safe", null);
            Thread.sleep(POLL_MS);
        }
        return new Recovered(detectedNs, System.nanoTime() - killNs);
    }

    /**
     * Reads the keys in passes, each pass retrying what the last could not read, until every key
     * reads back whole: the time from the kill, or -1 if keys were still absent in a pass that
     * began with the cluster already safe (those are lost).
     */
    private static long awaitEveryKey(IMap<String, byte[]> map, List<String> keys,
                                      FutureTask<Recovered> recovery, long killNs, long deadlineNs) {
        List<String> pending = keys;
        while (true) {
            boolean safeBeforePass = recovery.isDone();
            ReadPass pass = read(map, pending);
            if (pass.failed().isEmpty() && pass.missing().isEmpty()) {
                return System.nanoTime() - killNs;
            }
            if (safeBeforePass && pass.failed().isEmpty()) {
                return -1;
            }
            pending = new ArrayList<>(pass.failed());
            pending.addAll(pass.missing());
            checkDeadline(deadlineNs, pending.size() + " of " + keys.size() + " keys still do not read back",
                    pass.lastError());
        }
    }

    /** Reads every key once the cluster is safe; the keys absent (or not a whole record). */
    private static long countLost(IMap<String, byte[]> map, List<String> keys, long deadlineNs) {
        long lost = 0;
        List<String> pending = keys;
        while (!pending.isEmpty()) {
            ReadPass pass = read(map, pending);
            lost += pass.missing().size();
            pending = pass.failed();
            if (!pending.isEmpty()) {
                checkDeadline(deadlineNs, pending.size() + " keys still fail to read on a safe cluster",
                        pass.lastError());
            }
        }
        return lost;
    }

    /**
     * One pass over {@code keys} in {@code getAll} batches.
     *
     * @param failed    keys of batches that threw (to retry)
     * @param missing   keys read back absent or not a whole record
     * @param lastError the last exception a batch threw, or null
     */
    private record ReadPass(List<String> failed, List<String> missing, RuntimeException lastError) {
    }

    private static ReadPass read(IMap<String, byte[]> map, List<String> keys) {
        List<String> failed = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        RuntimeException lastError = null;
        for (int from = 0; from < keys.size(); from += READ_BATCH_KEYS) {
            List<String> batch = keys.subList(from, Math.min(keys.size(), from + READ_BATCH_KEYS));
            Map<String, byte[]> values;
            try {
                values = map.getAll(new HashSet<>(batch));
            } catch (RuntimeException e) {
                lastError = e;
                failed.addAll(batch);
                continue;
            }
            for (String key : batch) {
                if (!wholeRecord(values.get(key))) {
                    missing.add(key);
                }
            }
        }
        return new ReadPass(failed, missing, lastError);
    }

    private static boolean wholeRecord(byte[] value) {
        if (value == null) {
            return false;
        }
        Map<String, ByteIterator> fields = new HashMap<>();
        try {
            RecordCodec.decode(value, null, fields);
        } catch (IllegalArgumentException e) {
            return false;
        }
        return !fields.isEmpty();
    }

    private static Recovered await(FutureTask<Recovered> recovery, long deadlineNs) throws InterruptedException {
        try {
            return recovery.get(remainingMs(deadlineNs), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            recovery.cancel(true);
            throw new IllegalStateException("the cluster was not safe within " + RECOVERY_DEADLINE_MS
                    + " ms of the kill", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw new IllegalStateException("waiting for a safe cluster failed", e.getCause());
        }
    }

    private static void checkDeadline(long deadlineNs, String what, RuntimeException lastError) {
        if (System.nanoTime() - deadlineNs > 0) {
            throw new IllegalStateException(what + " " + RECOVERY_DEADLINE_MS + " ms after the kill", lastError);
        }
    }

    private HazelcastInstance client() {
        if (client == null) {
            client = HazelcastClients.connect(cluster, liveAddresses());
        }
        return client;
    }

    private List<String> liveAddresses() {
        List<String> live = new ArrayList<>();
        for (MemberProcess member : members) {
            live.add(member.address());
        }
        return live;
    }

    /**
     * Shuts the client down, asks every member to exit, kills those still running 30 s later,
     * waits for each to exit, and deletes the work directory.
     */
    @Override
    public void close() throws IOException {
        if (client != null) {
            client.shutdown();
            client = null;
        }
        for (MemberProcess member : members) {
            member.requestExit();
        }
        boolean interrupted = false;
        List<MemberProcess> stuck = new ArrayList<>();
        for (MemberProcess member : members) {
            try {
                if (interrupted || !member.awaitExit(STOP_TIMEOUT_MS)) {
                    member.kill();
                    if (!interrupted && !member.awaitExit(STOP_TIMEOUT_MS)) {
                        stuck.add(member);
                    }
                }
            } catch (InterruptedException e) {
                interrupted = true;
                member.kill();
            }
        }
        members.clear();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        deleteRecursively(workDir);
        if (!stuck.isEmpty()) {
            throw new IOException("hazelcast member " + stuck.getFirst().number() + " (pid "
                    + stuck.getFirst().handle().pid() + ") did not exit after SIGKILL");
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    private static List<Integer> freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        List<Integer> ports = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(socket);
                ports.add(socket.getLocalPort());
            }
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
        return ports;
    }

    private static long remainingMs(long deadlineNs) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime()));
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
