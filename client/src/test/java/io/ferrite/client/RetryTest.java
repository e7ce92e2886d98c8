package io.ferrite.client;

import io.ferrite.client.fake.FakeCluster;
import io.ferrite.client.fake.FakeMaster;
import io.ferrite.client.transport.MasterConnection;
import io.ferrite.proto.v1.TabletState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class RetryTest {
    private FakeCluster cluster;
    private FerriteClient client;

    private Table open(int masters, ClientOptions.Builder options) {
        cluster = new FakeCluster(masters);
        client = Ferrite.connect(cluster.coordinatorAddresses(), options == null ? cluster.options().build()
                : options.build());
        client.createTable("t", masters);
        return client.table("t");
    }

    @AfterEach
    void tearDown() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void unknownTabletRefreshesTheMapAndSucceeds() {
        Table t = open(2, null);
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            keys.add("k" + i);
            t.write("k" + i, "v" + i);
        }
        int mapCalls = cluster.coordinator(0).tabletMapCalls.get();
        cluster.moveTablet("t", 0, cluster.master(1));
        for (int i = 0; i < 40; i++) {
            assertThat(t.read(keys.get(i)).orElseThrow().valueAsString()).isEqualTo("v" + i);
        }
        t.write("k0", "new");
        assertThat(t.read("k0").orElseThrow().valueAsString()).isEqualTo("new");
        assertThat(cluster.coordinator(0).tabletMapCalls.get()).isGreaterThan(mapCalls);
        assertThat(cluster.master(0).objectCount(t.id())).isZero();
    }

    @Test
    void retryUntilTheDeadlineThenTimeout() {
        Table t = open(1, null);
        client.close();
        client = Ferrite.connect(cluster.coordinatorAddresses(),
                cluster.options().timeout(Duration.ofMillis(300)).build());
        Table slow = client.table("t");
        cluster.master(0).alwaysRetry.set(true);
        long start = System.nanoTime();
        assertThatThrownBy(() -> slow.write("k", "v")).isInstanceOf(FerriteTimeoutException.class)
                .hasMessageContaining("RETRY");
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(tookMs).isBetween(150L, 3_000L);
        assertThat(cluster.master(0).streamRequests.get()).isGreaterThan(3);
        assertThatThrownBy(() -> slow.multiRead("a", "b")).isInstanceOf(FerriteTimeoutException.class);
        assertThatThrownBy(() -> {
            try (TableScanner s = slow.enumerate()) {
                s.hasNext();
            }
        }).isInstanceOf(FerriteTimeoutException.class);
        cluster.master(0).alwaysRetry.set(false);
        assertThat(slow.write("k", "v")).isPositive();
        assertThat(t.id()).isEqualTo(slow.id());
    }

    @Test
    void recoveringTabletIsRetriedUntilNormal() {
        Table t = open(2, null);
        t.write("a", "1");
        for (int i = 0; i < 2; i++) {
            cluster.setState("t", i, TabletState.RECOVERING);
        }
        int calls = cluster.coordinator(0).tabletMapCalls.get();
        CompletableFuture<Optional<ObjectValue>> read = t.readAsync("a");
        await().atMost(Duration.ofSeconds(5))
                .until(() -> cluster.coordinator(0).tabletMapCalls.get() >= calls + 2);
        assertThat(read).isNotDone();
        for (int i = 0; i < 2; i++) {
            cluster.setState("t", i, TabletState.NORMAL);
        }
        assertThat(read.join().orElseThrow().valueAsString()).isEqualTo("1");
    }

    @Test
    void droppedStreamIsReopenedAndTheRequestRetried() {
        Table t = open(1, null);
        t.write("warm", "up");
        FakeMaster m = cluster.master(0);
        assertThat(m.streamOpens.get()).isEqualTo(1);
        m.dropStreamOnNextRequests.set(1);
        assertThat(t.write("k", "v")).isPositive();
        assertThat(t.read("k").orElseThrow().valueAsString()).isEqualTo("v");
        assertThat(m.streamOpens.get()).isEqualTo(2);
        MasterConnection c = client.runtime().connections().get(m.address());
        assertThat(c.streamsOpened()).isEqualTo(2);
        assertThat(m.unaryRequests.get()).isZero();

        m.dropStreamOnNextRequests.set(1);
        List<CompletableFuture<Long>> many = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            many.add(t.incrementLongAsync("n", 1));
        }
        CompletableFuture.allOf(many.toArray(CompletableFuture[]::new)).join();
        assertThat(t.incrementLong("n", 0)).as("the dropped request was never applied, so the sum is exact")
                .isEqualTo(200);
    }

    @Test
    void inFlightBoundMakesRequestsWaitNotFail() {
        Table t = open(1, FakeCluster.inProcessOptions().maxInFlightPerServer(2));
        t.write("warm", "up");
        int mapCalls = cluster.coordinator(0).tabletMapCalls.get();
        java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        cluster.master(0).streamGate = gate;
        MasterConnection c = client.runtime().connections().get(cluster.master(0).address());
        List<CompletableFuture<Long>> many = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            many.add(t.incrementLongAsync("n", 1));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> c.fullRefusals() >= 3);
        assertThat(many).noneMatch(CompletableFuture::isDone);
        cluster.master(0).streamGate = null;
        gate.countDown();
        CompletableFuture.allOf(many.toArray(CompletableFuture[]::new)).join();
        assertThat(t.incrementLong("n", 0)).isEqualTo(5);
        assertThat(cluster.coordinator(0).tabletMapCalls.get()).as("a busy stream is no reason to refresh the map")
                .isEqualTo(mapCalls);
    }

    @Test
    void masterWithoutStreamsIsUsedThroughUnaryCalls() {
        cluster = new FakeCluster(2);
        cluster.master(0).streamUnimplemented = true;
        client = Ferrite.connect(cluster.coordinatorAddresses(), cluster.options().build());
        client.createTable("t", 2);
        Table t = client.table("t");
        for (int i = 0; i < 20; i++) {
            t.write("k" + i, "v" + i);
        }
        for (int i = 0; i < 20; i++) {
            assertThat(t.read("k" + i).orElseThrow().valueAsString()).isEqualTo("v" + i);
        }
        assertThat(cluster.master(0).unaryRequests.get()).isPositive();
        assertThat(cluster.master(1).unaryRequests.get()).isZero();
        assertThat(client.runtime().connections().get(cluster.master(0).address()).usesStreams()).isFalse();
    }

    @Test
    void unaryModeWorksForEveryOperation() {
        Table t = open(2, FakeCluster.inProcessOptions().useStreams(false));
        long v = t.write("a", "1");
        assertThat(t.read("a").orElseThrow().version()).isEqualTo(v);
        assertThat(t.incrementLong("n", 2)).isEqualTo(2);
        assertThat(t.multiWrite(List.of(WriteOp.of("b", "2"), WriteOp.of("c", "3")))).allMatch(OpResult::isOk);
        assertThat(t.multiRead("a", "b", "c", "d")).extracting(Optional::isPresent)
                .containsExactly(true, true, true, false);
        assertThat(t.multiRemove("b", "zz")).extracting(OpResult::outcome)
                .containsExactly(Outcome.OK, Outcome.OBJECT_NOT_FOUND);
        assertThat(t.remove("a")).hasValue(v);
        assertThat(cluster.masters()).allMatch(m -> m.streamOpens.get() == 0);
    }
}
