package io.ferrite.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.backup.ReplicaInfo;
import io.ferrite.backup.ReplicaStore;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.Table;
import io.ferrite.log.EntryType;
import io.ferrite.log.MetadataDescriptors;
import io.ferrite.log.SegmentCertificate;
import io.ferrite.log.SegmentIterator;
import io.ferrite.log.SegmentMemory;
import io.ferrite.master.log.LogSegment;
import io.ferrite.proto.KeyHash;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.Tablet;
import io.ferrite.server.testing.InJvmCluster;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replication end to end in one JVM: real servers with backup services; the SDK writes; the
 * backups' replica stores are inspected directly. Two transports: {@link Transport#UDP}, each
 * server with its own embedded Aeron media driver (as on separate machines), and
 * {@link Transport#IPC}, all servers on one media driver (as {@code ferrite local} runs them).
 */
class ReplicationTest {
    private static final long SEED = Long.getLong("ferrite.seed", 0x5EED_0004L);

    /** How the servers of a test reach each other's backups. */
    enum Transport { UDP, IPC }

    private static final AtomicInteger SHARED_DRIVERS = new AtomicInteger();

    @TempDir
    Path dir;
    private InJvmCluster cluster;
    private FerriteClient client;
    private io.aeron.driver.MediaDriver sharedDriver;

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        if (sharedDriver != null) {
            sharedDriver.close();
        }
    }

    private InJvmCluster start(int servers, int replicas) throws Exception {
        return start(servers, replicas, Transport.UDP);
    }

    private InJvmCluster start(int servers, int replicas, Transport transport) throws Exception {
        return start(servers, replicas, transport, i -> "server-" + i, i -> "rack-" + i);
    }

    /** A cluster whose i-th started server keeps its replicas in {@code dirs(i)}, in domain {@code domains(i)}. */
    private InJvmCluster start(int servers, int replicas, Transport transport,
                               java.util.function.IntFunction<String> dirs,
                               java.util.function.IntFunction<String> domains) throws Exception {
        if (transport == Transport.IPC) {
            sharedDriver = io.ferrite.server.replication.AeronTransport.launchDriver(
                    Path.of("/dev/shm").resolve("ferrite-aeron-test-" + ProcessHandle.current().pid() + "-"
                            + SHARED_DRIVERS.incrementAndGet()));
        }
        AtomicInteger index = new AtomicInteger();
        cluster = InJvmCluster.builder().servers(servers).memoryBytes(16L << 20).serverSettings(c -> {
            int i = index.getAndIncrement();
            c.backup(true).replicas(replicas).segmentSizeBytes(2 << 20).failureDomain(domains.apply(i))
                    .backupBufferDir(dir.resolve(dirs.apply(i)).resolve("buffers"))
                    .backupDir(dir.resolve(dirs.apply(i)).resolve("backup"));
            if (sharedDriver != null) {
                c.externalDriver(Path.of(sharedDriver.aeronDirectoryName()));
            } else {
                c.replicationIpc(false); // own drivers: UDP only, and check that the setting is honoured
            }
        }).start();
        client = Ferrite.connect(cluster.coordinatorAddress());
        return cluster;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Writes (with overwrites and removes) through the SDK, then stops one master and rebuilds
     * its objects from its backups' replicas alone: the newest head's log digest names every
     * segment, each must have a replica, and replaying them must give exactly what was
     * acknowledged for that master's tablets.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Transport.class)
    void aStoppedMastersObjectsCanBeRebuiltFromItsBackupsReplicasAlone(Transport transport) throws Exception {
        start(3, 2, transport);
        client.createTable("replicated", 3);
        Table table = client.table("replicated");
        Random random = new Random(SEED);
        Map<String, String> expected = new HashMap<>();
        // Batches of 64 distinct keys in flight (group commit), enough overwrites to make the
        // cleaner run in 16 MiB: its survivor segments are replicated and its freed ones freed.
        for (int batch = 0; batch < 400; batch++) {
            Map<String, java.util.concurrent.CompletableFuture<?>> inFlight = new HashMap<>();
            while (inFlight.size() < 64) {
                String key = "key-" + random.nextInt(2_000);
                if (inFlight.containsKey(key)) {
                    continue;
                }
                if (random.nextInt(10) == 0) {
                    inFlight.put(key, table.removeAsync(utf8(key)));
                    expected.remove(key);
                } else {
                    String value = "value-" + batch + "-" + "x".repeat(random.nextInt(3_000));
                    inFlight.put(key, table.writeAsync(utf8(key), utf8(value)));
                    expected.put(key, value);
                }
            }
            java.util.concurrent.CompletableFuture.allOf(inFlight.values()
                    .toArray(new java.util.concurrent.CompletableFuture<?>[0])).join();
        }
        FerriteServer victim = cluster.server(0);
        long masterId = victim.serverId().orElseThrow().asLong();
        GetTabletMapResponse map = cluster.tabletMap("replicated");
        List<Tablet> victimTablets = map.getTabletsList().stream().filter(t -> t.getOwnerId() == masterId).toList();
        assertThat(victimTablets).isNotEmpty();
        long tableId = map.getTableId();
        int segments = victim.engine().log().segmentCount();

        List<ReplicaStore> backups = new ArrayList<>();
        for (FerriteServer other : cluster.servers()) {
            if (other != victim) {
                backups.add(other.replicaStore().orElseThrow());
            }
        }
        // Every segment of the victim's log is on two backups before the victim goes.
        Awaitility.await("every segment on 2 backups").atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            for (LogSegment segment : new ArrayList<>(victim.engine().log().segments())) {
                int copies = 0;
                for (ReplicaStore store : backups) {
                    copies += (int) store.list(masterId).stream().filter(r -> r.segmentId() == segment.id()).count();
                }
                assertThat(copies).as("replicas of segment %d", segment.id()).isEqualTo(2);
            }
        });
        assertThat(victim.engine().stats().cleaner().combinedPasses() + victim.engine().stats().cleaner().compactions())
                .as("the cleaner ran").isPositive();
        // Freed segments are freed on the backups too: eventually they hold exactly the log's segments.
        Awaitility.await("backups hold only the log's segments").atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            Set<Long> inLog = new HashSet<>();
            for (LogSegment segment : new ArrayList<>(victim.engine().log().segments())) {
                inLog.add(segment.id());
            }
            Set<Long> held = new HashSet<>();
            for (ReplicaStore store : backups) {
                store.list(masterId).forEach(r -> held.add(r.segmentId()));
            }
            assertThat(held).isEqualTo(inLog);
        });
        // Each backup took the victim's replicas over the transport under test, and only over it.
        for (FerriteServer other : cluster.servers()) {
            if (other != victim) {
                long ipc = other.backupService().orElseThrow().ipcFragments();
                if (transport == Transport.IPC) {
                    assertThat(ipc).as("fragments over IPC on a shared driver").isPositive();
                } else {
                    assertThat(ipc).as("fragments over IPC with a driver per server").isZero();
                }
            }
        }
        cluster.stopServer(victim);

        Map<Long, byte[]> replicas = new HashMap<>();
        for (ReplicaStore store : backups) {
            for (ReplicaInfo info : store.list(masterId)) {
                assertThat(info.state()).isNotEqualTo(ReplicaInfo.State.CORRUPT);
                Optional<byte[]> bytes = store.read(masterId, info.segmentId());
                bytes.ifPresent(b -> replicas.merge(info.segmentId(), b, (x, y) -> x.length >= y.length ? x : y));
            }
        }
        long head = replicas.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
        long[] digest = digestOf(head, replicas.get(head));
        assertThat(digest).as("the head's log digest").isNotNull();
        assertThat(digest.length).isGreaterThanOrEqualTo(Math.min(segments, 1));
        Map<String, Object[]> replayed = new HashMap<>(); // key -> {version, value or null (removed)}
        for (long id : digest) {
            assertThat(replicas).as("a replica of segment %d named by the digest", id).containsKey(id);
            replay(id, replicas.get(id), tableId, replayed);
        }
        Map<String, String> rebuilt = new HashMap<>();
        replayed.forEach((key, entry) -> {
            if (entry[1] != null) {
                rebuilt.put(key, (String) entry[1]);
            }
        });
        Map<String, String> victimsShare = new HashMap<>();
        expected.forEach((key, value) -> {
            long hash = KeyHash.hash(utf8(key));
            for (Tablet t : victimTablets) {
                if (Long.compareUnsigned(hash, t.getStartHash()) >= 0 && Long.compareUnsigned(hash, t.getEndHash()) <= 0) {
                    victimsShare.put(key, value);
                }
            }
        });
        assertThat(victimsShare).isNotEmpty();
        assertThat(rebuilt).as("seed %d: objects rebuilt from replicas", SEED).isEqualTo(victimsShare);
    }

    private static long[] digestOf(long segmentId, byte[] bytes) {
        SegmentIterator it = new SegmentIterator(true).reset(memory(bytes), segmentId,
                certificateOf(segmentId, bytes));
        while (it.next() == SegmentIterator.ENTRY) {
            if (it.type() == EntryType.LOG_DIGEST) {
                return MetadataDescriptors.readDigest(it.memory(), it.payloadOffset());
            }
        }
        return null;
    }

    private static SegmentMemory memory(byte[] bytes) {
        return SegmentMemory.contiguous(MemorySegment.ofArray(bytes));
    }

    /** The certificate of a fully trusted replica's bytes (the store returned only its certified prefix). */
    private static SegmentCertificate certificateOf(long segmentId, byte[] bytes) {
        SegmentIterator it = new SegmentIterator(true).resetTrusted(memory(bytes), segmentId, bytes.length);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        while (it.next() == SegmentIterator.ENTRY) {
            int headerBytes = (int) (it.payloadOffset() - it.entryOffset());
            crc.update(bytes, (int) it.entryOffset(), headerBytes);
        }
        return new SegmentCertificate(bytes.length, (int) crc.getValue());
    }

    private static void replay(long segmentId, byte[] bytes, long tableId, Map<String, Object[]> replayed) {
        SegmentIterator it = new SegmentIterator(true).resetTrusted(memory(bytes), segmentId, bytes.length);
        int step;
        while ((step = it.next()) == SegmentIterator.ENTRY) {
            if (it.type() == EntryType.OBJECT && it.object().tableId() == tableId) {
                String key = new String(it.object().key(), StandardCharsets.UTF_8);
                long version = it.object().version();
                String value = new String(it.object().value(), StandardCharsets.UTF_8);
                replayed.merge(key, new Object[] {version, value},
                        (old, now) -> (long) now[0] > (long) old[0] ? now : old);
            } else if (it.type() == EntryType.TOMBSTONE && it.tombstone().tableId() == tableId) {
                String key = new String(it.tombstone().key(), StandardCharsets.UTF_8);
                long version = it.tombstone().objectVersion();
                replayed.merge(key, new Object[] {version, null},
                        (old, now) -> (long) now[0] >= (long) old[0] ? now : old);
            }
        }
        assertThat(step).as("segment %d replays to its end", segmentId).isEqualTo(SegmentIterator.END);
    }

    /**
     * A backup that withholds its answers blocks the writes of the segments it holds until the
     * master gives up on it (two ack timeouts) and replicates the segment elsewhere; then the
     * write is acknowledged, and the head is on two answering backups.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Transport.class)
    void aBackupWithholdingAcksBlocksTheWriteUntilItIsReplaced(Transport transport) throws Exception {
        start(4, 2, transport);
        client.createTable("withheld", 1);
        Table table = client.table("withheld");
        table.write("first", "v0");
        GetTabletMapResponse map = cluster.tabletMap("withheld");
        FerriteServer master = cluster.serverAt(map.getTablets(0).getOwnerAddress());
        long masterId = master.serverId().orElseThrow().asLong();
        long head = master.engine().log().head().id();
        FerriteServer hung = null;
        for (FerriteServer s : cluster.servers()) {
            if (s != master && s.replicaStore().orElseThrow().list(masterId).stream()
                    .anyMatch(r -> r.segmentId() == head)) {
                hung = s;
                break;
            }
        }
        assertThat(hung).as("a backup of the head").isNotNull();
        hung.backupService().orElseThrow().withholdAnswers(true);
        long t0 = System.nanoTime();
        table.write("second", "v1");
        long blockedMs = (System.nanoTime() - t0) / 1_000_000;
        assertThat(blockedMs).as("the write waited for the silent backup to be replaced")
                .isGreaterThanOrEqualTo(io.ferrite.server.replication.ReplicationServices.ACK_TIMEOUT.toMillis());
        long hungId = hung.serverId().orElseThrow().asLong();
        Set<Long> holders = new HashSet<>();
        for (FerriteServer s : cluster.servers()) {
            if (s != master && s != hung && s.replicaStore().orElseThrow().list(masterId).stream()
                    .anyMatch(r -> r.segmentId() == head)) {
                holders.add(s.serverId().orElseThrow().asLong());
            }
        }
        assertThat(holders).as("the head on two answering backups").hasSize(2).doesNotContain(hungId);
        hung.backupService().orElseThrow().withholdAnswers(false);
        assertThat(table.read("second").orElseThrow().valueAsString()).isEqualTo("v1");
        assertThat(table.read("first").orElseThrow().valueAsString()).isEqualTo("v0");
        System.out.printf("write blocked %d ms by a silent backup%n", blockedMs);
        assertThat(master.replicaManager().orElseThrow().stats().replicasReplaced()).isPositive();
        assertThat(master.meterRegistry().scrape()).contains("ferrite_replication_replicas_replaced_total")
                .contains("ferrite_backup_buffers");
    }

    /**
     * Failure domains a, b, b, c: every master's head goes to two backups in two domains that
     * differ from each other and from the master's own.
     */
    @Test
    void replicasGoToOtherFailureDomainsFirst() throws Exception {
        String[] racks = {"a", "b", "b", "c"};
        start(4, 2, Transport.IPC, i -> "server-" + i, i -> racks[i % racks.length]);
        client.createTable("racks", 4);
        Table table = client.table("racks");
        // Enough to roll every master's head after all four servers are up: placement uses the
        // backups live at the time (a master's first segment is placed as it registers).
        for (int i = 0; i < 1_600; i++) {
            table.write("k" + (i % 400), "v" + i + "x".repeat(8_000));
        }
        for (FerriteServer master : cluster.servers()) {
            assertThat(master.engine().log().head().id()).as("the head rolled").isGreaterThan(1);
        }
        Map<Long, String> domainOf = new HashMap<>();
        for (FerriteServer s : cluster.servers()) {
            domainOf.put(s.serverId().orElseThrow().asLong(), s.context().failureDomain());
        }
        for (FerriteServer master : cluster.servers()) {
            long masterId = master.serverId().orElseThrow().asLong();
            long head = master.engine().log().head().id();
            List<String> domains = new ArrayList<>();
            for (FerriteServer backup : cluster.servers()) {
                if (backup.replicaStore().orElseThrow().list(masterId).stream().anyMatch(r -> r.segmentId() == head)) {
                    domains.add(domainOf.get(backup.serverId().orElseThrow().asLong()));
                }
            }
            assertThat(domains).as("domains of the head of the master in %s", master.context().failureDomain())
                    .hasSize(2).doesNotHaveDuplicates().doesNotContain(master.context().failureDomain());
        }
    }

    /**
     * A backup that stops and comes back (a new generation on the same directories) reloads its
     * replicas from disk, verified, and serves as a backup again: writes that stalled while only
     * one backup was left go through.
     */
    @Test
    void aRestartedBackupReloadsItsReplicasAndTakesNewOnes() throws Exception {
        start(3, 2, Transport.IPC, i -> "server-" + (i == 3 ? 2 : i), i -> "rack-" + (i == 3 ? 2 : i));
        client.createTable("restart", 2);
        Table table = client.table("restart");
        for (int i = 0; i < 300; i++) {
            table.write("k" + i, "v" + i + "-" + "x".repeat(200));
        }
        FerriteServer backup = cluster.server(2);
        Set<Long> mastersBefore = new HashSet<>();
        backup.replicaStore().orElseThrow().list().forEach(r -> mastersBefore.add(r.masterId()));
        int heldBefore = backup.replicaStore().orElseThrow().list().size();
        assertThat(heldBefore).isPositive();
        cluster.stopServer(backup);

        FerriteServer restarted = cluster.startServer();
        List<ReplicaInfo> reloaded = restarted.replicaStore().orElseThrow().list().stream()
                .filter(r -> mastersBefore.contains(r.masterId())).toList();
        assertThat(reloaded).as("replicas reloaded from disk").isNotEmpty();
        assertThat(reloaded).allSatisfy(r -> assertThat(r.state()).isNotEqualTo(ReplicaInfo.State.CORRUPT));
        for (int i = 0; i < 300; i++) {
            table.write("k" + i, "w" + i);
        }
        for (int i = 0; i < 300; i++) {
            assertThat(table.read("k" + i).orElseThrow().valueAsString()).isEqualTo("w" + i);
        }
        long restartedId = restarted.serverId().orElseThrow().asLong();
        assertThat(cluster.servers().stream().filter(s -> s != restarted).anyMatch(master ->
                master.replicaManager().orElseThrow().stats().replicasOpened() > 0
                        && restarted.replicaStore().orElseThrow().list(master.serverId().orElseThrow().asLong())
                                .stream().anyMatch(r -> r.epoch() >= 1))).isTrue();
        assertThat(restartedId).isNotEqualTo(0);
    }

    /**
     * A backup that was down while its masters cleaned (and freed segments it held) drops, once
     * back, the reloaded replicas its masters no longer list: their frees never reached it. The
     * other reloaded replicas go too once their masters hold two copies elsewhere (they
     * re-replicated when the backup left): every segment ends with exactly two copies.
     */
    @Test
    void aRestartedBackupDropsReplicasItsMastersFreedWhileItWasDown() throws Exception {
        start(4, 2, Transport.UDP, i -> "server-" + (i == 4 ? 3 : i), i -> "rack-" + (i == 4 ? 3 : i));
        client.createTable("freed", 3);
        Table table = client.table("freed");
        Random random = new Random(SEED);
        overwrite(table, random, 150);
        FerriteServer backup = cluster.server(3);
        long backupId = backup.serverId().orElseThrow().asLong();
        List<ReplicaInfo> held = backup.replicaStore().orElseThrow().list();
        assertThat(held).isNotEmpty();
        cluster.stopServer(backup);
        overwrite(table, random, 900); // the cleaner frees segments the stopped backup held
        List<ReplicaInfo> freedMeanwhile = held.stream().filter(r -> cluster.servers().stream()
                .filter(m -> m.serverId().orElseThrow().asLong() == r.masterId())
                .noneMatch(m -> m.engine().log().containsSegment(r.segmentId()))).toList();
        assertThat(freedMeanwhile).as("segments the stopped backup held that its masters freed").isNotEmpty();
        FerriteServer restarted = cluster.startServer();
        assertThat(restarted.serverId().orElseThrow().asLong()).isNotEqualTo(backupId);
        Awaitility.await("only segments in the masters' logs").atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (FerriteServer master : cluster.servers()) {
                if (master == restarted) {
                    continue;
                }
                long masterId = master.serverId().orElseThrow().asLong();
                Set<Long> inLog = new HashSet<>();
                for (LogSegment s : new ArrayList<>(master.engine().log().segments())) {
                    inLog.add(s.id());
                }
                for (ReplicaInfo r : restarted.replicaStore().orElseThrow().list(masterId)) {
                    assertThat(inLog).as("segment %d of master %d", r.segmentId(), masterId).contains(r.segmentId());
                }
            }
            for (ReplicaInfo gone : freedMeanwhile) {
                assertThat(restarted.replicaStore().orElseThrow().list(gone.masterId()))
                        .extracting(ReplicaInfo::segmentId).doesNotContain(gone.segmentId());
            }
        });
        Awaitility.await("exactly two copies of every segment").atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (FerriteServer master : cluster.servers()) {
                long masterId = master.serverId().orElseThrow().asLong();
                Map<Long, Integer> copies = new HashMap<>();
                for (FerriteServer holder : cluster.servers()) {
                    holder.replicaStore().orElseThrow().list(masterId)
                            .forEach(r -> copies.merge(r.segmentId(), 1, Integer::sum));
                }
                for (LogSegment segment : new ArrayList<>(master.engine().log().segments())) {
                    assertThat(copies.getOrDefault(segment.id(), 0)).as("copies of segment %d of master %d",
                            segment.id(), masterId).isEqualTo(2);
                }
            }
        });
        // Writes go on with the restarted backup among the candidates.
        overwrite(table, random, 50);
    }

    /** {@code batches} batches of 64 distinct keys of 2,000, written concurrently, values up to 3 KB. */
    private static void overwrite(Table table, Random random, int batches) {
        for (int batch = 0; batch < batches; batch++) {
            Map<String, java.util.concurrent.CompletableFuture<?>> inFlight = new HashMap<>();
            while (inFlight.size() < 64) {
                String key = "key-" + random.nextInt(2_000);
                if (!inFlight.containsKey(key)) {
                    inFlight.put(key, table.writeAsync(utf8(key), utf8("v" + batch + "x".repeat(random.nextInt(3_000)))));
                }
            }
            java.util.concurrent.CompletableFuture.allOf(inFlight.values()
                    .toArray(new java.util.concurrent.CompletableFuture<?>[0])).join();
        }
    }

    /**
     * Each master's segments go to backups other than itself, two of them, on distinct servers;
     * random datagrams sent to every backup's UDP replication port before and during the writes
     * change nothing (Aeron drops what is not its protocol).
     */
    @Test
    void replicasAreOnDistinctServersOtherThanTheMaster() throws Exception {
        start(3, 2);
        client.createTable("placed", 3);
        Table table = client.table("placed");
        List<java.net.InetSocketAddress> ports = new ArrayList<>();
        for (io.ferrite.proto.v1.ServerInfo info : cluster.coordinatorStub()
                .listServers(io.ferrite.proto.v1.ListServersRequest.getDefaultInstance()).getServersList()) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("endpoint=([^|]+):(\\d+)")
                    .matcher(info.getReplication().getChannel());
            assertThat(m.find()).as("a UDP endpoint in %s", info.getReplication().getChannel()).isTrue();
            ports.add(new java.net.InetSocketAddress(m.group(1), Integer.parseInt(m.group(2))));
        }
        Random random = new Random(SEED);
        try (java.net.DatagramSocket garbage = new java.net.DatagramSocket()) {
            for (int i = 0; i < 500; i++) {
                if (i % 10 == 0) {
                    for (java.net.InetSocketAddress port : ports) {
                        byte[] junk = new byte[1 + random.nextInt(1_400)];
                        random.nextBytes(junk);
                        garbage.send(new java.net.DatagramPacket(junk, junk.length, port));
                    }
                }
                table.write("k" + i, "v" + i);
            }
        }
        for (FerriteServer master : cluster.servers()) {
            long masterId = master.serverId().orElseThrow().asLong();
            Set<Long> segmentIds = new HashSet<>();
            for (LogSegment s : master.engine().log().segments()) {
                segmentIds.add(s.id());
            }
            Awaitility.await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                for (long segment : segmentIds) {
                    Set<Long> holders = new HashSet<>();
                    for (FerriteServer backup : cluster.servers()) {
                        boolean holds = backup.replicaStore().orElseThrow().list(masterId).stream()
                                .anyMatch(r -> r.segmentId() == segment);
                        if (holds) {
                            holders.add(backup.serverId().orElseThrow().asLong());
                        }
                    }
                    assertThat(holders).as("holders of segment %d of %d", segment, masterId).hasSize(2)
                            .doesNotContain(masterId);
                }
            });
        }
        for (int i = 0; i < 500; i++) {
            assertThat(table.read("k" + i).orElseThrow().valueAsString()).isEqualTo("v" + i);
        }
    }
}
