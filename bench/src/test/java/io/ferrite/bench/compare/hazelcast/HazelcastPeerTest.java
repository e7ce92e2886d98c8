package io.ferrite.bench.compare.hazelcast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Vector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import site.ycsb.ByteArrayByteIterator;
import site.ycsb.ByteIterator;
import site.ycsb.DB;
import site.ycsb.Status;

/**
 * Real member JVMs (small heaps) driven through the YCSB binding's {@code site.ycsb.DB} API, the
 * memory figures, and the loss of one member out of three. Figures are printed, never asserted
 * beyond being there.
 */
class HazelcastPeerTest {
    private static final String TABLE = HazelcastMemberMain.MAP_NAME;
    private static final String HEAP = "256m";
    private static final int FIELDS = 10;
    private static final int FIELD_BYTES = 10;
    private static final int RECORD_BYTES = FIELDS * FIELD_BYTES;
    private static final PrintStream PROGRESS = System.out;

    @TempDir
    Path dir;

    @Test
    void bindingInsertsReadsUpdatesAndDeletesOnTwoMembers() throws Exception {
        List<ProcessHandle> processes;
        try (HazelcastPeer peer = HazelcastPeer.start(2, HEAP, dir.resolve("hz"), PROGRESS)) {
            processes = peer.processes();
            assertThat(processes).hasSize(2).allMatch(ProcessHandle::isAlive);
            assertThat(peer.description()).startsWith("Hazelcast 5.5.0, 2 members").contains("BINARY");
            DB db = binding(peer);
            DB other = binding(peer);
            for (int i = 0; i < 200; i++) {
                assertThat(db.insert(TABLE, key(i), record(i, "v1"))).isEqualTo(Status.OK);
            }

            assertThat(read(db, key(7))).isEqualTo(strings(record(7, "v1")));
            assertThat(db.update(TABLE, key(7), record(7, "v2"))).isEqualTo(Status.OK);
            assertThat(read(other, key(7))).isEqualTo(strings(record(7, "v2")));
            assertThat(db.delete(TABLE, key(7))).isEqualTo(Status.OK);
            assertThat(db.read(TABLE, key(7), null, new HashMap<>())).isEqualTo(Status.NOT_FOUND);
            assertThat(db.scan(TABLE, key(0), 10, null, new Vector<>())).isEqualTo(Status.NOT_IMPLEMENTED);

            Map<String, Long> memory = peer.memory();
            PROGRESS.println("hazelcast memory with 199 records: " + memory);
            assertThat(memory).containsOnlyKeys("rss", "heap_used", "owned_entry_cost", "backup_entry_cost");
            assertThat(memory.get("rss")).isPositive();
            assertThat(memory.get("heap_used")).isPositive();
            assertThat(memory.get("owned_entry_cost")).isPositive();
            assertThat(memory.get("backup_entry_cost")).isPositive();

            db.cleanup(); // the other DB still holds the shared client
            assertThat(read(other, key(8))).isEqualTo(strings(record(8, "v1")));
            peer.clear();
            assertThat(other.read(TABLE, key(8), null, new HashMap<>())).isEqualTo(Status.NOT_FOUND);
            other.cleanup();
        }
        assertThat(processes).noneMatch(ProcessHandle::isAlive);
        assertThat(dir.resolve("hz")).doesNotExist();
    }

    @Test
    void killingOneOfThreeMembersLosesNoRecord() throws Exception {
        try (HazelcastPeer peer = HazelcastPeer.start(3, HEAP, dir.resolve("hz"), PROGRESS)) {
            DB db = binding(peer);
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                keys.add(key(i));
                assertThat(db.insert(TABLE, key(i), record(i, "v1"))).isEqualTo(Status.OK);
            }

            MemberLoss loss = peer.killOneMember(keys);
            PROGRESS.println("hazelcast member loss: " + loss);
            assertThat(loss.lostKeys()).isZero();
            assertThat(loss.victimEntries()).isPositive();
            assertThat(loss.victimEntryBytes()).isPositive();
            assertThat(loss.serviceMs()).isNotNegative();
            assertThat(loss.safeMs()).isNotNegative();
            assertThat(peer.processes()).hasSize(2);
            for (int i = 0; i < keys.size(); i++) {
                assertThat(read(db, keys.get(i))).isEqualTo(strings(record(i, "v1")));
            }
            db.cleanup();
        }
    }

    @Test
    void memberThatCannotStartIsNamedWithItsLog() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String address = "127.0.0.1:" + taken.getLocalPort();
            Path log = dir.resolve("member-1.log");
            List<String> flags = new ArrayList<>(List.of("-Xmx64m"));
            flags.addAll(HazelcastPeer.JVM_FLAGS);
            MemberProcess member = MemberProcess.launch(1, "doomed", taken.getLocalPort(), List.of(address), flags, log);
            try {
                assertThatThrownBy(() -> member.awaitReady(HazelcastPeer.START_TIMEOUT_MS))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("hazelcast member 1 (" + address)
                        .hasMessageContaining("exited with status")
                        .hasMessageContaining("last lines of " + log)
                        .satisfies(e -> PROGRESS.println("a member that cannot start: " + e.getMessage()));
            } finally {
                member.kill();
                assertThat(member.awaitExit(HazelcastPeer.STOP_TIMEOUT_MS)).isTrue();
            }
        }
    }

    private static DB binding(HazelcastPeer peer) throws Exception {
        DB db = new HazelcastYcsbClient();
        Properties properties = new Properties();
        properties.putAll(peer.ycsbProperties());
        db.setProperties(properties);
        db.init();
        return db;
    }

    private static String key(int i) {
        return "user" + i;
    }

    /** Ten fields of ten bytes, each naming the record, the field and the version. */
    private static Map<String, ByteIterator> record(int i, String version) {
        Map<String, ByteIterator> fields = new LinkedHashMap<>();
        for (int f = 0; f < FIELDS; f++) {
            String value = String.format("%-" + FIELD_BYTES + "s", i + "/" + f + "/" + version);
            fields.put("field" + f, new ByteArrayByteIterator(value.getBytes(StandardCharsets.US_ASCII)));
        }
        return fields;
    }

    private static Map<String, String> read(DB db, String key) {
        Map<String, ByteIterator> result = new HashMap<>();
        assertThat(db.read(TABLE, key, null, result)).isEqualTo(Status.OK);
        return strings(result);
    }

    private static Map<String, String> strings(Map<String, ByteIterator> fields) {
        Map<String, String> out = new HashMap<>();
        for (Map.Entry<String, ByteIterator> field : fields.entrySet()) {
            out.put(field.getKey(), new String(field.getValue().toArray(), StandardCharsets.US_ASCII));
        }
        return out;
    }
}
