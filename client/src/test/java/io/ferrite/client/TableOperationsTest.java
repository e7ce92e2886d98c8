package io.ferrite.client;

import io.ferrite.client.fake.FakeCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TableOperationsTest {
    private FakeCluster cluster;
    private FerriteClient client;
    private Table table;

    @BeforeEach
    void setUp() {
        cluster = new FakeCluster(3);
        client = Ferrite.connect(cluster.coordinatorAddresses(), cluster.options().build());
        client.createTable("t", 3);
        table = client.table("t");
    }

    @AfterEach
    void tearDown() {
        client.close();
        cluster.close();
    }

    @Test
    void readWriteRemoveWithStringsAndBytes() {
        assertThat(table.read("a")).isEmpty();
        long v1 = table.write("a", "one");
        ObjectValue read = table.read("a").orElseThrow();
        assertThat(read.valueAsString()).isEqualTo("one");
        assertThat(read.keyAsString()).isEqualTo("a");
        assertThat(read.version()).isEqualTo(v1);
        assertThat(read.timestampSeconds()).isPositive();

        byte[] key = {0, 1, 2, (byte) 0xFF};
        byte[] value = new byte[1000];
        value[999] = 42;
        long v2 = table.write(key, value);
        assertThat(table.read(key).orElseThrow().value()).isEqualTo(value);
        long v3 = table.write("a", "two");
        assertThat(v3).isGreaterThan(v1);

        assertThat(table.remove("a")).isEqualTo(OptionalLong.of(v3));
        assertThat(table.remove("a")).isEmpty();
        assertThat(table.read("a")).isEmpty();
        assertThat(table.remove(key)).isEqualTo(OptionalLong.of(v2));
        assertThat(table.write("empty", "")).isPositive();
        assertThat(table.read("empty").orElseThrow().value()).isEmpty();
        assertThat(client.runtime().connections().values()).allMatch(c -> c.usesStreams());
        assertThat(cluster.masters()).allMatch(m -> m.unaryRequests.get() == 0);
    }

    @Test
    void conditionsTurnIntoTypedExceptions() {
        long v1 = table.write("k", "1", Condition.ifAbsent());
        assertThatThrownBy(() -> table.write("k", "2", Condition.ifAbsent()))
                .isInstanceOfSatisfying(ObjectExistsException.class, e -> assertThat(e.currentVersion()).isEqualTo(v1));
        assertThatThrownBy(() -> table.write("k", "2", Condition.ifVersion(v1 + 100)))
                .isInstanceOfSatisfying(WrongVersionException.class, e -> assertThat(e.currentVersion()).isEqualTo(v1));
        long v2 = table.write("k", "2", Condition.ifVersion(v1));
        assertThat(v2).isGreaterThan(v1);
        assertThatThrownBy(() -> table.write("k", "3", Condition.ifNewerThan(v2)))
                .isInstanceOf(WrongVersionException.class);
        long v3 = table.write("k", "3", Condition.ifNewerThan(v1));
        assertThatThrownBy(() -> table.write("absent", "x", Condition.ifExists()))
                .isInstanceOf(ObjectNotFoundException.class);
        assertThatThrownBy(() -> table.write("absent", "x", Condition.ifVersion(1)))
                .isInstanceOf(ObjectNotFoundException.class);
        assertThat(table.read("absent")).isEmpty();
        long v4 = table.write("k", "4", Condition.ifExists());

        assertThatThrownBy(() -> table.remove("k", Condition.ifVersion(v3)))
                .isInstanceOf(WrongVersionException.class);
        assertThatThrownBy(() -> table.remove("absent", Condition.ifExists()))
                .isInstanceOf(ObjectNotFoundException.class);
        assertThat(table.remove("k", Condition.ifVersion(v4))).isEqualTo(OptionalLong.of(v4));
        assertThat(table.read("k")).isEmpty();
    }

    @Test
    void asyncVariantsComposeAndFailWithTheSameExceptions() throws Exception {
        CompletableFuture<Optional<ObjectValue>> chain = table.writeAsync("x", "1")
                .thenCompose(v -> table.writeAsync("x", "2", Condition.ifVersion(v)))
                .thenCompose(v -> table.readAsync("x"));
        assertThat(chain.get().orElseThrow().valueAsString()).isEqualTo("2");
        CompletableFuture<Long> refused = table.writeAsync("x", "3", Condition.ifAbsent());
        assertThat(refused).failsWithin(java.time.Duration.ofSeconds(5))
                .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                .withCauseInstanceOf(ObjectExistsException.class);
        assertThat(table.removeAsync("x").get()).isPresent();
        assertThat(table.removeAsync("x", Condition.none()).get()).isEmpty();
        assertThat(table.incrementLongAsync("n", 5).get()).isEqualTo(5L);
        assertThat(table.incrementDoubleAsync("d", 0.5).get()).isEqualTo(0.5);

        List<CompletableFuture<Long>> writes = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            writes.add(table.writeAsync("key-" + i, "value-" + i));
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get();
        for (int i = 0; i < 500; i += 50) {
            assertThat(table.read("key-" + i).orElseThrow().valueAsString()).isEqualTo("value-" + i);
        }
    }

    @Test
    void incrementsFromSeveralThreadsSumExactly() throws Exception {
        int threads = 4;
        int perThread = 250;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        table.incrementLong("counter", 3);
                        table.incrementDouble("gauge", 0.25);
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        List<CompletableFuture<Long>> async = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            async.add(table.incrementLongAsync("counter", -1));
        }
        CompletableFuture.allOf(async.toArray(CompletableFuture[]::new)).get();
        assertThat(table.incrementLong("counter", 0)).isEqualTo(threads * perThread * 3L - 1000);
        assertThat(table.incrementDouble("gauge", 0)).isEqualTo(threads * perThread * 0.25);
        table.write("text", "abc");
        assertThatThrownBy(() -> table.incrementLong("text", 1)).isInstanceOf(NotANumberException.class);
    }

    @Test
    void limitsAreCheckedBeforeSending() {
        assertThatThrownBy(() -> table.write(new byte[0], new byte[1])).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> table.read(new byte[Table.MAX_KEY_BYTES + 1]))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("65535");
        assertThatThrownBy(() -> table.write("k".getBytes(StandardCharsets.UTF_8), new byte[Table.MAX_VALUE_BYTES + 1]))
                .isInstanceOf(InvalidArgumentException.class);
        assertThat(table.readAsync(new byte[0])).isCompletedExceptionally();
        assertThatThrownBy(() -> table.multiWrite(List.of(WriteOp.of("", "x"))))
                .isInstanceOf(InvalidArgumentException.class);
        assertThat(table.write(new byte[Table.MAX_KEY_BYTES], new byte[Table.MAX_VALUE_BYTES])).isPositive();
        assertThat(cluster.masters()).allMatch(m -> m.streamRequests.get() <= 1);
    }

    @Test
    void closedClientFailsCalls() {
        table.write("a", "b");
        client.close();
        assertThatThrownBy(() -> table.read("a")).isInstanceOf(FerriteException.class).hasMessageContaining("closed");
        client.close();
    }
}
