package io.ferrite.client;

import io.ferrite.client.fake.FakeCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** The default channels (Netty, direct executor) against fakes on loopback TCP ports. */
class NettyTransportTest {
    private FakeCluster cluster;
    private FerriteClient client;

    @BeforeEach
    void setUp() {
        cluster = new FakeCluster(2, 2, true);
        client = Ferrite.connect(cluster.coordinatorAddresses());
    }

    @AfterEach
    void tearDown() {
        client.close();
        cluster.close();
    }

    @Test
    void manyRequestsInFlightOverRealStreams() {
        client.createTable("net", 2);
        Table t = client.table("net");
        List<CompletableFuture<Long>> writes = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            writes.add(t.writeAsync("k" + i, "v" + i));
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
        List<CompletableFuture<java.util.Optional<ObjectValue>>> reads = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            reads.add(t.readAsync("k" + i));
        }
        for (int i = 0; i < 2000; i++) {
            assertThat(reads.get(i).join().orElseThrow().valueAsString()).isEqualTo("v" + i);
        }
        assertThat(t.multiRead("k1", "k2", "nope")).extracting(java.util.Optional::isPresent)
                .containsExactly(true, true, false);
        long count;
        try (var s = t.stream()) {
            count = s.count();
        }
        assertThat(count).isEqualTo(2000);
        assertThat(cluster.masters()).allMatch(m -> m.streamOpens.get() == 1 && m.unaryRequests.get() == 0);
    }
}
