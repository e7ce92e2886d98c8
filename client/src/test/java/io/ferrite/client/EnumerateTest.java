package io.ferrite.client;

import io.ferrite.client.fake.FakeCluster;
import io.ferrite.client.fake.FakeMaster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EnumerateTest {
    private static final int N = 1234;
    private static final int BATCH = 50;
    private FakeCluster cluster;
    private FerriteClient client;
    private Table table;
    private final Map<String, String> expected = new HashMap<>();

    @BeforeEach
    void setUp() {
        cluster = new FakeCluster(3);
        client = Ferrite.connect(cluster.coordinatorAddresses(),
                cluster.options().enumerateBatchObjects(BATCH).build());
        client.createTable("big", 3);
        table = client.table("big");
        List<WriteOp> writes = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            writes.add(WriteOp.of("obj-" + i, "val-" + i));
            expected.put("obj-" + i, "val-" + i);
        }
        table.multiWrite(writes);
    }

    @AfterEach
    void tearDown() {
        client.close();
        cluster.close();
    }

    private Map<String, String> collect(TableScanner scanner) {
        Map<String, String> seen = new HashMap<>();
        try (scanner) {
            while (scanner.hasNext()) {
                ObjectValue o = scanner.next();
                assertThat(seen.put(o.keyAsString(), o.valueAsString())).as("duplicate " + o.keyAsString()).isNull();
            }
        }
        return seen;
    }

    @Test
    void enumeratesATableLargerThanOneBatch() {
        assertThat(collect(table.enumerate())).isEqualTo(expected);
        int calls = cluster.masters().stream().mapToInt(m -> m.enumerateCalls.get()).sum();
        assertThat(calls).isEqualTo(3);
        try (Stream<ObjectValue> s = table.stream()) {
            assertThat(s.collect(Collectors.toMap(ObjectValue::keyAsString, ObjectValue::valueAsString)))
                    .isEqualTo(expected);
        }
        Map<String, String> async = new ConcurrentHashMap<>();
        assertThat(table.enumerateAsync(o -> async.put(o.keyAsString(), o.valueAsString())).join()).isEqualTo(N);
        assertThat(async).isEqualTo(expected);
    }

    @Test
    void resumesAfterTheMasterBreaksTheStreamMidWay() {
        FakeMaster m = cluster.master(1);
        m.breakEnumerateAfterBatches.set(3);
        assertThat(m.objectCount(table.id())).isGreaterThan(4 * BATCH);
        assertThat(collect(table.enumerate())).isEqualTo(expected);
        assertThat(m.enumerateCalls.get()).isEqualTo(2);
    }

    @Test
    void stoppingEarlyAndEmptyTables() {
        try (TableScanner scanner = table.enumerate()) {
            assertThat(scanner.next()).isNotNull();
        }
        client.createTable("empty", 2);
        assertThat(collect(client.table("empty").enumerate())).isEmpty();
        RuntimeException boom = new IllegalStateException("consumer failed");
        assertThat(table.enumerateAsync(o -> {
            throw boom;
        })).failsWithin(java.time.Duration.ofSeconds(5))
                .withThrowableOfType(java.util.concurrent.ExecutionException.class).withCause(boom);
    }

    @Test
    void ownershipChangeMidWayIsReportedNotSilentlyWrong() {
        TableScanner scanner = table.enumerate();
        assertThat(scanner.hasNext()).isTrue();
        cluster.moveTablet("big", 2, cluster.master(0));
        cluster.master(0).breakEnumerateAfterBatches.set(0);
        cluster.master(1).breakEnumerateAfterBatches.set(0);
        cluster.master(2).breakEnumerateAfterBatches.set(0);
        assertThatThrownBy(() -> {
            while (scanner.hasNext()) {
                scanner.next();
            }
        }).isInstanceOf(EnumerationInterruptedException.class);
    }

    @Test
    void staleMapBeforeAnyObjectIsDeliveredStartsOver() {
        cluster.moveTablet("big", 0, cluster.master(1));
        assertThat(collect(table.enumerate())).isEqualTo(expected);
        assertThat(cluster.master(0).enumerateCalls.get()).isEqualTo(1);
    }

    @Test
    void droppedTableEndsTheEnumeration() {
        client.dropTable("big");
        assertThatThrownBy(() -> collect(table.enumerate())).isInstanceOf(TableNotFoundException.class);
    }
}
