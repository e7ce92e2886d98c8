package io.ferrite.client;

import io.ferrite.client.fake.FakeCluster;
import io.ferrite.client.fake.FakeMaster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class MultiOperationsTest {
    private static final int N = 300;
    private FakeCluster cluster;
    private FerriteClient client;
    private Table table;

    @BeforeEach
    void setUp() {
        cluster = new FakeCluster(3);
        // Small batches so each master's share is split into several parallel requests.
        client = Ferrite.connect(cluster.coordinatorAddresses(), cluster.options().multiOpBatch(16, 1 << 20).build());
        client.createTable("multi", 3);
        table = client.table("multi");
    }

    @AfterEach
    void tearDown() {
        client.close();
        cluster.close();
    }

    @Test
    void multiOperationsAcrossMastersKeepRequestOrder() {
        List<WriteOp> writes = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            writes.add(WriteOp.of("key-" + i, "value-" + i));
        }
        List<OpResult> written = table.multiWrite(writes);
        assertThat(written).hasSize(N).allMatch(OpResult::isOk);
        for (FakeMaster m : cluster.masters()) {
            assertThat(m.objectCount(table.id())).as("every master holds a share").isGreaterThan(N / 10);
        }
        assertThat(cluster.masters().stream().mapToInt(m -> m.multiRequests.get()).sum())
                .isGreaterThanOrEqualTo(N / 16);

        List<String> keys = new ArrayList<>();
        for (int i = N - 1; i >= 0; i--) {
            keys.add("key-" + i);
            if (i % 7 == 0) {
                keys.add("missing-" + i);
            }
        }
        List<Optional<ObjectValue>> read = table.multiRead(keys.toArray(String[]::new));
        assertThat(read).hasSize(keys.size());
        for (int j = 0; j < keys.size(); j++) {
            String key = keys.get(j);
            if (key.startsWith("missing")) {
                assertThat(read.get(j)).isEmpty();
            } else {
                ObjectValue v = read.get(j).orElseThrow();
                assertThat(v.keyAsString()).isEqualTo(key);
                assertThat(v.valueAsString()).isEqualTo("value-" + key.substring(4));
                assertThat(v.version()).isEqualTo(written.get(Integer.parseInt(key.substring(4))).version());
            }
        }

        List<RemoveOp> removes = new ArrayList<>();
        for (int i = 0; i < N; i += 2) {
            removes.add(RemoveOp.of("key-" + i));
            removes.add(RemoveOp.of("never-" + i));
        }
        List<OpResult> removed = table.multiRemove(removes);
        for (int j = 0; j < removes.size(); j++) {
            assertThat(removed.get(j).outcome()).isEqualTo(j % 2 == 0 ? Outcome.OK : Outcome.OBJECT_NOT_FOUND);
        }
        assertThat(table.read("key-0")).isEmpty();
        assertThat(table.read("key-1")).isPresent();
    }

    @Test
    void conditionalItemsReportTheirOwnOutcome() {
        long v = table.write("a", "1");
        long vb = table.write("b", "1");
        List<OpResult> results = table.multiWrite(List.of(
                WriteOp.of(bytes("a"), bytes("2"), Condition.ifAbsent()),
                WriteOp.of(bytes("b"), bytes("2"), Condition.ifVersion(vb + 1000)),
                WriteOp.of(bytes("c"), bytes("2"), Condition.ifExists()),
                WriteOp.of(bytes("d"), bytes("2"), Condition.ifAbsent()),
                WriteOp.of(bytes("a"), bytes("3"), Condition.ifVersion(v))));
        assertThat(results).extracting(OpResult::outcome).containsExactly(Outcome.OBJECT_EXISTS,
                Outcome.WRONG_VERSION, Outcome.OBJECT_NOT_FOUND, Outcome.OK, Outcome.OK);
        assertThat(results.get(0).version()).isEqualTo(v);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> results.get(0).orThrow())
                .isInstanceOf(ObjectExistsException.class);
        assertThat(results.get(3).orThrow()).isPositive();
        List<OpResult> removed = table.multiRemove(List.of(RemoveOp.of(bytes("a"), Condition.ifVersion(v)),
                RemoveOp.of(bytes("d"), Condition.ifExists())));
        assertThat(removed).extracting(OpResult::outcome).containsExactly(Outcome.WRONG_VERSION, Outcome.OK);
        assertThat(table.multiRead(List.of())).isEmpty();
        assertThat(table.multiReadAsync("a", "d").join()).extracting(Optional::isPresent).containsExactly(true, false);
    }

    @Test
    void multiOperationsSurviveATabletMoveMidWay() {
        List<WriteOp> writes = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            writes.add(WriteOp.of("m-" + i, "v-" + i));
        }
        table.multiWrite(writes);
        int before = cluster.coordinator(0).tabletMapCalls.get();
        cluster.moveTablet("multi", 0, cluster.master(2));
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            keys.add("m-" + i);
        }
        List<Optional<ObjectValue>> read = table.multiRead(keys.toArray(String[]::new));
        for (int i = 0; i < 60; i++) {
            assertThat(read.get(i).orElseThrow().valueAsString()).isEqualTo("v-" + i);
        }
        assertThat(cluster.coordinator(0).tabletMapCalls.get()).isGreaterThan(before);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
