package io.ferrite.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.ClusterStatus;
import io.ferrite.client.Condition;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.InvalidArgumentException;
import io.ferrite.client.NotANumberException;
import io.ferrite.client.ObjectExistsException;
import io.ferrite.client.ObjectNotFoundException;
import io.ferrite.client.ObjectValue;
import io.ferrite.client.OpResult;
import io.ferrite.client.Outcome;
import io.ferrite.client.RemoveOp;
import io.ferrite.client.ServerInfo;
import io.ferrite.client.Table;
import io.ferrite.client.TableExistsException;
import io.ferrite.client.TableInfo;
import io.ferrite.client.TableNotFoundException;
import io.ferrite.client.TableScanner;
import io.ferrite.client.WriteOp;
import io.ferrite.client.WrongVersionException;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.server.testing.InJvmCluster;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every operation of the Java SDK end to end against a real cluster in this JVM (ZooKeeper, a
 * coordinator, three servers): administration, single-key reads, writes and removes with and
 * without conditions (synchronous and asynchronous), increments from several threads with exact
 * sums, multi-operations whose keys span every tablet, and enumeration of tables larger than
 * one response batch, by object count and by bytes.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SdkEndToEndTest {
    private static final int SERVERS = 3;
    private static InJvmCluster cluster;
    private static FerriteClient client;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = InJvmCluster.builder().servers(SERVERS).start();
        client = Ferrite.connect(cluster.coordinatorAddress(),
                ClientOptions.builder().timeout(Duration.ofSeconds(20)).build());
    }

    @AfterAll
    static void stopCluster() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** A table over every server, with its handle. */
    private static Table newTable(String name) {
        client.createTable(name, SERVERS);
        return client.table(name);
    }

    /** The servers owning these keys in the table's tablet map. */
    private static Set<String> owners(String table, List<byte[]> keys) {
        GetTabletMapResponse map = cluster.tabletMap(table);
        Set<String> owners = new HashSet<>();
        for (byte[] key : keys) {
            owners.add(InJvmCluster.ownerOf(map, key));
        }
        return owners;
    }

    private static List<byte[]> keys(String prefix, int count) {
        List<byte[]> keys = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            keys.add((prefix + i).getBytes(UTF_8));
        }
        return keys;
    }

    private static Throwable causeOf(CompletableFuture<?> future) {
        try {
            future.join();
        } catch (CompletionException e) {
            return e.getCause();
        }
        throw new AssertionError("expected the future to fail");
    }

    @Test
    void administration() {
        long id = client.createTable("admin", SERVERS);
        assertThat(client.listTables()).contains(new TableInfo("admin", id, SERVERS));
        assertThatThrownBy(() -> client.createTable("admin", 1)).isInstanceOf(TableExistsException.class);
        assertThatThrownBy(() -> client.createTable("bad/name", 1)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> client.createTable("zero-span", 0)).isInstanceOf(InvalidArgumentException.class);

        List<ServerInfo> servers = client.servers();
        assertThat(servers).hasSize(SERVERS).allSatisfy(s -> {
            assertThat(s.status()).isEqualTo("UP");
            assertThat(s.services()).contains("master");
        });
        assertThat(servers).extracting(ServerInfo::address)
                .containsExactlyInAnyOrderElementsOf(cluster.servers().stream().map(FerriteServer::address).toList());
        ClusterStatus status = client.clusterStatus();
        assertThat(status.cluster()).isEqualTo(cluster.name());
        assertThat(status.leader()).isEqualTo(cluster.coordinatorAddress());
        assertThat(status.coordinators()).contains(cluster.coordinatorAddress());
        assertThat(status.serversUp()).isEqualTo(SERVERS);
        assertThat(status.serversCrashed()).isZero();
        assertThat(status.tables()).isPositive();

        Table admin = client.table("admin");
        assertThat(admin.name()).isEqualTo("admin");
        assertThat(admin.id()).isEqualTo(id);
        admin.write("k", "v");
        client.dropTable("admin");
        assertThat(client.listTables()).extracting(TableInfo::name).doesNotContain("admin");
        assertThatThrownBy(() -> client.table("admin")).isInstanceOf(TableNotFoundException.class);
        assertThatThrownBy(() -> client.dropTable("admin")).isInstanceOf(TableNotFoundException.class);
        assertThatThrownBy(() -> admin.read("k")).isInstanceOf(TableNotFoundException.class);

        // The asynchronous variants of the same.
        long asyncId = client.createTableAsync("admin-async", 2).join();
        assertThat(client.listTablesAsync().join()).contains(new TableInfo("admin-async", asyncId, 2));
        assertThat(client.serversAsync().join()).hasSize(SERVERS);
        assertThat(client.clusterStatusAsync().join().serversUp()).isEqualTo(SERVERS);
        assertThat(client.tableAsync("admin-async").join().id()).isEqualTo(asyncId);
        assertThat(causeOf(client.createTableAsync("admin-async", 1))).isInstanceOf(TableExistsException.class);
        client.dropTableAsync("admin-async").join();
        assertThat(causeOf(client.dropTableAsync("admin-async"))).isInstanceOf(TableNotFoundException.class);
        assertThat(causeOf(client.tableAsync("admin-async"))).isInstanceOf(TableNotFoundException.class);
    }

    @Test
    void readWriteRemoveOnEveryTablet() {
        Table table = newTable("rw");
        List<byte[]> keys = keys("key-", 60);
        assertThat(owners("rw", keys)).hasSize(SERVERS);
        Map<String, Long> versions = new HashMap<>();
        for (byte[] key : keys) {
            long version = table.write(key, ("value of " + new String(key, UTF_8)).getBytes(UTF_8));
            versions.put(new String(key, UTF_8), version);
        }
        for (byte[] key : keys) {
            ObjectValue object = table.read(key).orElseThrow();
            assertThat(object.key()).isEqualTo(key);
            assertThat(object.valueAsString()).isEqualTo("value of " + new String(key, UTF_8));
            assertThat(object.version()).isEqualTo(versions.get(new String(key, UTF_8)));
            assertThat(object.timestampSeconds()).isPositive();
        }
        // Overwrite: a higher version; String overloads; remove returns the removed version.
        long v1 = table.write("key-0", "first");
        long v2 = table.write("key-0", "second");
        assertThat(v2).isGreaterThan(v1);
        assertThat(table.read("key-0").orElseThrow().valueAsString()).isEqualTo("second");
        assertThat(table.remove("key-0")).isEqualTo(OptionalLong.of(v2));
        assertThat(table.read("key-0")).isEmpty();
        assertThat(table.remove("key-0")).isEmpty();
        assertThat(table.read("never-written")).isEmpty();
        // A value of the largest size, and an empty one.
        byte[] big = new byte[Table.MAX_VALUE_BYTES];
        Arrays.fill(big, (byte) 7);
        table.write("big".getBytes(UTF_8), big);
        assertThat(table.read("big").orElseThrow().value()).isEqualTo(big);
        table.write("empty", "");
        assertThat(table.read("empty").orElseThrow().value()).isEmpty();

        // Asynchronous variants.
        long av = table.writeAsync("async", "a").join();
        assertThat(table.writeAsync("async".getBytes(UTF_8), "b".getBytes(UTF_8)).join()).isGreaterThan(av);
        assertThat(table.readAsync("async").join().orElseThrow().valueAsString()).isEqualTo("b");
        assertThat(table.readAsync("async".getBytes(UTF_8)).join()).isPresent();
        assertThat(table.removeAsync("async").join()).isPresent();
        assertThat(table.removeAsync("async".getBytes(UTF_8)).join()).isEmpty();
        assertThat(table.readAsync("async").join()).isEmpty();
    }

    @Test
    void conditionalWritesAndRemoves() {
        Table table = newTable("cond");
        long created = table.write("k", "v1", Condition.ifAbsent());
        ObjectExistsException exists = (ObjectExistsException) catchFerrite(
                () -> table.write("k", "again", Condition.ifAbsent()));
        assertThat(exists.currentVersion()).isEqualTo(created);
        assertThatThrownBy(() -> table.write("absent", "x", Condition.ifExists()))
                .isInstanceOf(ObjectNotFoundException.class);
        assertThat(table.read("absent")).isEmpty();

        long updated = table.write("k", "v2", Condition.ifExists());
        long cas = table.write("k", "v3", Condition.ifVersion(updated));
        WrongVersionException wrong = (WrongVersionException) catchFerrite(
                () -> table.write("k", "lost", Condition.ifVersion(updated)));
        assertThat(wrong.currentVersion()).isEqualTo(cas);
        assertThat(table.read("k").orElseThrow().valueAsString()).isEqualTo("v3");

        assertThat(table.write("k", "v4", Condition.ifNewerThan(cas - 1))).isGreaterThan(cas);
        long current = table.read("k").orElseThrow().version();
        assertThatThrownBy(() -> table.write("k", "stale", Condition.ifNewerThan(current)))
                .isInstanceOf(WrongVersionException.class);

        assertThatThrownBy(() -> table.remove("k", Condition.ifVersion(current + 100)))
                .isInstanceOf(WrongVersionException.class);
        assertThatThrownBy(() -> table.remove("absent", Condition.ifExists()))
                .isInstanceOf(ObjectNotFoundException.class);
        assertThatThrownBy(() -> table.remove("k", Condition.ifAbsent())).isInstanceOf(ObjectExistsException.class);
        assertThat(table.remove("k", Condition.ifVersion(current))).isEqualTo(OptionalLong.of(current));
        assertThat(table.read("k")).isEmpty();

        // Asynchronous: the future fails with the exception the synchronous call throws.
        long a = table.writeAsync("a", "1", Condition.ifAbsent()).join();
        assertThat(causeOf(table.writeAsync("a", "2", Condition.ifAbsent()))).isInstanceOf(ObjectExistsException.class);
        assertThat(causeOf(table.writeAsync("a".getBytes(UTF_8), "2".getBytes(UTF_8), Condition.ifVersion(a + 1))))
                .isInstanceOf(WrongVersionException.class);
        assertThat(causeOf(table.removeAsync("nope", Condition.ifExists())))
                .isInstanceOf(ObjectNotFoundException.class);
        assertThat(table.removeAsync("a".getBytes(UTF_8), Condition.ifVersion(a)).join()).hasValue(a);
    }

    private static RuntimeException catchFerrite(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            return e;
        }
        throw new AssertionError("expected a refusal");
    }

    @Test
    void incrementsFromSeveralThreadsAddUpExactly() throws Exception {
        Table table = newTable("counters");
        List<byte[]> counters = keys("counter-", 6);
        assertThat(owners("counters", counters)).hasSizeGreaterThan(1);
        int threads = 4;
        int perThread = 300;
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        byte[] key = counters.get((i + thread) % counters.size());
                        if (i % 3 == 0) {
                            table.incrementLongAsync(key, 2).join();
                        } else {
                            table.incrementLong(key, 2);
                        }
                        table.incrementDouble("sum", 0.25);
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        long total = 0;
        for (byte[] key : counters) {
            byte[] value = table.read(key).orElseThrow().value();
            assertThat(value).hasSize(8);
            total += ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }
        assertThat(total).isEqualTo(2L * threads * perThread);
        assertThat(table.incrementDouble("sum", 0)).isEqualTo(0.25 * threads * perThread);
        assertThat(table.incrementDoubleAsync("sum".getBytes(UTF_8), 1).join()).isEqualTo(0.25 * threads * perThread + 1);
        assertThat(table.incrementLong("fresh", -5)).isEqualTo(-5);
        assertThat(table.incrementLongAsync("fresh", 5).join()).isZero();
        assertThat(table.incrementDoubleAsync("fresh-d", 1.5).join()).isEqualTo(1.5);

        table.write("text", "not a number");
        assertThatThrownBy(() -> table.incrementLong("text", 1)).isInstanceOf(NotANumberException.class);
        assertThatThrownBy(() -> table.incrementDouble("text", 1)).isInstanceOf(NotANumberException.class);
        assertThat(table.read("text").orElseThrow().valueAsString()).isEqualTo("not a number");
    }

    @Test
    void multiOperationsAcrossTablets() {
        Table table = newTable("multi");
        int count = 300;
        List<byte[]> keys = keys("m-", count);
        assertThat(owners("multi", keys)).hasSize(SERVERS);
        List<WriteOp> writes = new ArrayList<>();
        for (byte[] key : keys) {
            writes.add(WriteOp.of(key, ("v-" + new String(key, UTF_8)).getBytes(UTF_8)));
        }
        List<OpResult> written = table.multiWrite(writes);
        assertThat(written).hasSize(count).allSatisfy(r -> assertThat(r.isOk()).isTrue());

        // Reads come back in request order, absent keys as empty, from every tablet.
        List<byte[]> reads = new ArrayList<>(keys);
        reads.add(1, "missing-1".getBytes(UTF_8));
        reads.add("missing-2".getBytes(UTF_8));
        List<Optional<ObjectValue>> values = table.multiRead(reads);
        assertThat(values).hasSize(count + 2);
        assertThat(values.get(1)).isEmpty();
        assertThat(values.getLast()).isEmpty();
        for (int i = 0; i < reads.size(); i++) {
            String key = new String(reads.get(i), UTF_8);
            if (!key.startsWith("missing")) {
                ObjectValue object = values.get(i).orElseThrow();
                assertThat(object.keyAsString()).isEqualTo(key);
                assertThat(object.valueAsString()).isEqualTo("v-" + key);
                int index = Integer.parseInt(key.substring(2));
                assertThat(object.version()).isEqualTo(written.get(index).version());
            }
        }
        assertThat(table.multiRead("m-0", "missing", "m-1")).extracting(Optional::isPresent)
                .containsExactly(true, false, true);

        // Conditions per item: refused items say why, the others are done.
        List<OpResult> conditional = table.multiWrite(List.of(
                WriteOp.of("m-0".getBytes(UTF_8), "x".getBytes(UTF_8), Condition.ifAbsent()),
                WriteOp.of("new-1".getBytes(UTF_8), "y".getBytes(UTF_8), Condition.ifAbsent()),
                WriteOp.of("m-1".getBytes(UTF_8), "z".getBytes(UTF_8), Condition.ifVersion(written.get(1).version())),
                WriteOp.of("m-2".getBytes(UTF_8), "w".getBytes(UTF_8), Condition.ifVersion(1_000_000)),
                WriteOp.of("new-2".getBytes(UTF_8), "u".getBytes(UTF_8), Condition.ifExists())));
        assertThat(conditional).extracting(OpResult::outcome).containsExactly(Outcome.OBJECT_EXISTS, Outcome.OK,
                Outcome.OK, Outcome.WRONG_VERSION, Outcome.OBJECT_NOT_FOUND);
        assertThatThrownBy(() -> conditional.getFirst().orThrow()).isInstanceOf(ObjectExistsException.class);
        assertThat(table.read("m-0").orElseThrow().valueAsString()).isEqualTo("v-m-0");
        assertThat(table.read("m-1").orElseThrow().valueAsString()).isEqualTo("z");

        // Removes: present keys OK with their version, absent ones OBJECT_NOT_FOUND.
        List<RemoveOp> removes = new ArrayList<>();
        for (int i = 0; i < count; i += 2) {
            removes.add(RemoveOp.of(keys.get(i)));
        }
        removes.add(RemoveOp.of("missing-3"));
        List<OpResult> removed = table.multiRemove(removes);
        assertThat(removed.subList(0, removed.size() - 1)).allSatisfy(r -> assertThat(r.outcome()).isEqualTo(Outcome.OK));
        assertThat(removed.getLast().outcome()).isEqualTo(Outcome.OBJECT_NOT_FOUND);
        assertThat(table.multiRead("m-0", "m-1", "m-2", "m-3")).extracting(Optional::isPresent)
                .containsExactly(false, true, false, true);
        assertThat(table.multiRemove("m-1", "m-1-missing")).extracting(OpResult::outcome)
                .containsExactly(Outcome.OK, Outcome.OBJECT_NOT_FOUND);

        // Asynchronous variants.
        assertThat(table.multiWriteAsync(List.of(WriteOp.of("async-1", "1"), WriteOp.of("async-2", "2"))).join())
                .allSatisfy(r -> assertThat(r.isOk()).isTrue());
        assertThat(table.multiReadAsync("async-1", "async-2", "async-3").join()).extracting(Optional::isPresent)
                .containsExactly(true, true, false);
        assertThat(table.multiReadAsync(List.of("async-1".getBytes(UTF_8))).join().getFirst()).isPresent();
        assertThat(table.multiRemoveAsync("async-1", "async-3").join()).extracting(OpResult::outcome)
                .containsExactly(Outcome.OK, Outcome.OBJECT_NOT_FOUND);
        assertThat(table.multiRemoveAsync(List.of(RemoveOp.of("async-2"))).join().getFirst().isOk()).isTrue();
    }

    @Test
    void enumerateTablesLargerThanOneBatch() throws Exception {
        // By count: each of the three masters holds more than one default batch (1,000 objects).
        Table table = newTable("scan-count");
        int count = 4_000;
        List<WriteOp> writes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            writes.add(WriteOp.of("s-" + i, "value-" + i));
        }
        assertThat(table.multiWrite(writes)).allSatisfy(r -> assertThat(r.isOk()).isTrue());
        assertThat(scanKeys(table)).hasSize(count);
        try (Stream<ObjectValue> stream = table.stream()) {
            assertThat(stream.filter(o -> o.valueAsString().equals("value-" + o.keyAsString().substring(2))).count())
                    .isEqualTo(count);
        }
        Set<String> seenAsync = ConcurrentHashMap.newKeySet();
        long delivered = table.enumerateAsync(o -> seenAsync.add(o.keyAsString())).get(60, TimeUnit.SECONDS);
        assertThat(delivered).isEqualTo(count);
        assertThat(seenAsync).hasSize(count);
        // Small batches asked by the client: many round trips per master, nothing lost or repeated.
        try (FerriteClient smallBatches = Ferrite.connect(cluster.coordinatorAddress(),
                ClientOptions.builder().enumerateBatchObjects(97).build())) {
            assertThat(scanKeys(smallBatches.table("scan-count"))).hasSize(count);
        }
        // A scanner closed early is fine.
        try (TableScanner scanner = table.enumerate()) {
            assertThat(scanner.hasNext()).isTrue();
            scanner.next();
        }

        // By bytes: 24 KiB values, 6 MiB in all, over the 2 MiB a batch holds.
        Table large = newTable("scan-bytes");
        byte[] value = new byte[24 << 10];
        List<WriteOp> bigWrites = new ArrayList<>();
        for (int i = 0; i < 256; i++) {
            Arrays.fill(value, (byte) i);
            bigWrites.add(WriteOp.of(("b-" + i).getBytes(UTF_8), value.clone()));
        }
        assertThat(large.multiWrite(bigWrites)).allSatisfy(r -> assertThat(r.isOk()).isTrue());
        AtomicLong bytes = new AtomicLong();
        Set<String> keys = new HashSet<>();
        try (TableScanner scanner = large.enumerate()) {
            while (scanner.hasNext()) {
                ObjectValue o = scanner.next();
                assertThat(keys.add(o.keyAsString())).as("seen once: %s", o.keyAsString()).isTrue();
                int i = Integer.parseInt(o.keyAsString().substring(2));
                assertThat(o.value()).hasSize(24 << 10).containsOnly((byte) i);
                bytes.addAndGet(o.value().length);
            }
        }
        assertThat(keys).hasSize(256);
        assertThat(bytes.get()).isEqualTo(256L * (24 << 10));
    }

    private static Set<String> scanKeys(Table table) {
        Set<String> keys = new HashSet<>();
        try (TableScanner scanner = table.enumerate()) {
            while (scanner.hasNext()) {
                String key = scanner.next().keyAsString();
                assertThat(keys.add(key)).as("seen once: %s", key).isTrue();
            }
        }
        return keys;
    }

    @Test
    void badArgumentsAreRefusedBeforeSending() {
        Table table = newTable("limits");
        assertThatThrownBy(() -> table.write(new byte[0], new byte[1])).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> table.write(new byte[Table.MAX_KEY_BYTES + 1], new byte[1]))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> table.write(new byte[1], new byte[Table.MAX_VALUE_BYTES + 1]))
                .isInstanceOf(InvalidArgumentException.class);
        byte[] longestKey = new byte[Table.MAX_KEY_BYTES];
        Arrays.fill(longestKey, (byte) 'k');
        table.write(longestKey, "ok".getBytes(UTF_8));
        assertThat(table.read(longestKey).orElseThrow().valueAsString()).isEqualTo("ok");
        assertThatThrownBy(() -> client.table("no-such-table")).isInstanceOf(TableNotFoundException.class);
    }

    @Test
    void unaryCallsWorkLikeTheStream() {
        Table streamed = newTable("unary");
        try (FerriteClient unary = Ferrite.connect(cluster.coordinatorAddress(),
                ClientOptions.builder().useStreams(false).build())) {
            Table table = unary.table("unary");
            long v = table.write("k", "v");
            assertThat(streamed.read("k").orElseThrow().version()).isEqualTo(v);
            assertThat(table.incrementLong("n", 3)).isEqualTo(3);
            assertThatThrownBy(() -> table.write("k", "w", Condition.ifAbsent()))
                    .isInstanceOf(ObjectExistsException.class);
            assertThat(table.multiRead("k", "n", "x")).extracting(Optional::isPresent).containsExactly(true, true, false);
            assertThat(table.remove("k")).hasValue(v);
        }
    }
}
