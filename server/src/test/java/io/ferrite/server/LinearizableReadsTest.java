package io.ferrite.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.ferrite.client.Condition;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.ObjectExistsException;
import io.ferrite.client.ObjectValue;
import io.ferrite.client.Table;
import io.ferrite.proto.v1.DataRequest;
import io.ferrite.proto.v1.DataResponse;
import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.Status;
import io.ferrite.proto.v1.WriteRequest;
import io.ferrite.master.data.Limits;
import io.ferrite.server.testing.InJvmCluster;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * I4 (reads are linearizable) and I9 (bounded waiting under stress) on an in-JVM cluster whose
 * backups withhold their acknowledgements: while a write is not durable, no other client may
 * see its effect — a read of its value, a "not found" after a remove, an increment's sum, a
 * conditional write's rejection all wait for it — and one client flooding a stream cannot make
 * the master hold more than a bounded number of waiting answers.
 */
class LinearizableReadsTest {
    /** How long an answer must stay held to count as held (a condition held, not a sleep). */
    private static final Duration HELD = Duration.ofMillis(400);

    @TempDir
    Path dir;
    private InJvmCluster cluster;
    private FerriteClient writer;
    private FerriteClient reader;

    @AfterEach
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {writer, reader, cluster}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /** Three servers, R = 2: a master's two backups are the only servers that could hold its log. */
    private FerriteServer start(String table) throws Exception {
        AtomicInteger index = new AtomicInteger();
        cluster = InJvmCluster.builder().servers(3).memoryBytes(16L << 20).serverSettings(c -> {
            int i = index.getAndIncrement();
            c.backup(true).replicas(2).segmentSizeBytes(2 << 20).replicationIpc(false)
                    .backupBufferDir(dir.resolve("s" + i).resolve("buffers"))
                    .backupDir(dir.resolve("s" + i).resolve("backup"));
        }).start();
        writer = Ferrite.connect(cluster.coordinatorAddress());
        reader = Ferrite.connect(cluster.coordinatorAddress());
        writer.createTable(table, 1);
        GetTabletMapResponse map = cluster.tabletMap(table);
        return cluster.serverAt(map.getTablets(0).getOwnerAddress());
    }

    private void withhold(FerriteServer master, boolean on) {
        for (FerriteServer s : cluster.servers()) {
            if (s != master) {
                s.backupService().orElseThrow().withholdAnswers(on);
            }
        }
    }

    private static double waiting(FerriteServer master) {
        return master.meterRegistry().get("ferrite.data.durability.waiters").gauge().value();
    }

    /** Awaits {@code count} answers held on the master (the write is applied, not yet durable). */
    private static void awaitWaiting(FerriteServer master, int count) {
        Awaitility.await("answers held on the master").atMost(Duration.ofSeconds(10))
                .until(() -> waiting(master) >= count);
    }

    /** Awaits {@code count} answers held on the master, then checks {@code answer} stays held. */
    private static void assertHeld(FerriteServer master, int count, CompletableFuture<?> answer, String what) {
        Awaitility.await(what + ": held on the master").atMost(Duration.ofSeconds(10))
                .until(() -> waiting(master) >= count);
        Awaitility.await(what + ": not answered while the write is not durable").during(HELD)
                .atMost(HELD.multipliedBy(3)).until(() -> !answer.isDone());
    }

    @Test
    void nothingAWriteRevealsIsSeenBeforeItIsDurable() throws Exception {
        FerriteServer master = start("lin");
        Table w = writer.table("lin");
        Table r = reader.table("lin");
        w.write("k", "v0");
        w.write("gone", "here");
        w.write("text", "not a number");
        assertThat(r.read("k").orElseThrow().valueAsString()).isEqualTo("v0");

        // A read of a value not yet durable waits for it, then returns it.
        withhold(master, true);
        CompletableFuture<Long> write = w.writeAsync("k", "v1");
        awaitWaiting(master, 1);
        CompletableFuture<Optional<ObjectValue>> read = r.readAsync("k");
        assertHeld(master, 2, read, "read of k");
        assertThat(write).isNotDone();
        // An old, durable key is still served at once meanwhile.
        assertThat(r.readAsync("text").get(10, TimeUnit.SECONDS).orElseThrow().valueAsString())
                .isEqualTo("not a number");
        withhold(master, false);
        assertThat(read.get(30, TimeUnit.SECONDS).orElseThrow().valueAsString()).isEqualTo("v1");
        write.get(30, TimeUnit.SECONDS);

        // "Not found" after a remove waits for the tombstone.
        withhold(master, true);
        CompletableFuture<?> remove = w.removeAsync("gone");
        awaitWaiting(master, 1);
        CompletableFuture<Optional<ObjectValue>> gone = r.readAsync("gone");
        assertHeld(master, 2, gone, "read of a removed key");
        withhold(master, false);
        assertThat(gone.get(30, TimeUnit.SECONDS)).isEmpty();
        remove.get(30, TimeUnit.SECONDS);

        // An increment's result, and a read of it, wait for the increment.
        withhold(master, true);
        CompletableFuture<Long> first = w.incrementLongAsync("n", 5);
        awaitWaiting(master, 1);
        CompletableFuture<Long> second = r.incrementLongAsync("n", 1);
        assertHeld(master, 2, second, "increment after an increment");
        withhold(master, false);
        assertThat(second.get(30, TimeUnit.SECONDS)).isEqualTo(6);
        assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(5);

        // A conditional write rejected because of a write not yet durable waits for that write.
        withhold(master, true);
        CompletableFuture<Long> create = w.writeAsync("fresh", "x");
        awaitWaiting(master, 1);
        CompletableFuture<Long> rejected = r.writeAsync("fresh", "y", Condition.ifAbsent());
        assertHeld(master, 2, rejected, "conditional write rejected by a pending write");
        withhold(master, false);
        assertThat(rejected).failsWithin(Duration.ofSeconds(30))
                .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                .withCauseInstanceOf(ObjectExistsException.class);
        create.get(30, TimeUnit.SECONDS);
        assertThat(r.read("fresh").orElseThrow().valueAsString()).isEqualTo("x");
    }

    @Test
    void aFloodOnOneStreamWhileBackupsStallIsBoundedAndOthersAreServed() throws Exception {
        FerriteServer master = start("flood");
        Table w = writer.table("flood");
        w.write("durable", "yes");
        long tableId = w.id();
        withhold(master, true);

        int requests = 2_000;
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger other = new AtomicInteger();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        StreamObserver<DataRequest> stream = cluster.dataAsyncStub(master.address()).stream(new StreamObserver<>() {
            @Override
            public void onNext(DataResponse response) {
                if (response.getWrite().getStatus() == Status.OK) {
                    ok.incrementAndGet();
                } else {
                    other.incrementAndGet();
                }
            }

            @Override
            public void onError(Throwable t) {
                failed.set(t);
            }

            @Override
            public void onCompleted() {
            }
        });
        ByteString value = ByteString.copyFrom(new byte[100]);
        for (int i = 0; i < requests; i++) {
            stream.onNext(DataRequest.newBuilder().setRequestId(i).setWrite(WriteRequest.newBuilder()
                    .setTableId(tableId).setKey(ByteString.copyFromUtf8("flood-" + i)).setValue(value)).build());
        }
        int cap = 64 + Limits.MAX_AWAITING_PER_STREAM; // StreamSession.WINDOW + the stream's waiting answers
        Awaitility.await("the stream fills its bound").atMost(Duration.ofSeconds(20))
                .until(() -> waiting(master) >= cap);
        Awaitility.await("and stops pulling there").during(HELD).atMost(HELD.multipliedBy(3))
                .until(() -> waiting(master) <= cap && ok.get() == 0);
        // Another client is still served (its key is durable).
        assertThat(reader.table("flood").readAsync("durable").get(10, TimeUnit.SECONDS).orElseThrow().valueAsString())
                .isEqualTo("yes");

        withhold(master, false);
        Awaitility.await("every flooded write answered once backups answer").atMost(Duration.ofSeconds(60))
                .until(() -> ok.get() + other.get() == requests || failed.get() != null);
        assertThat(failed.get()).isNull();
        assertThat(ok.get()).isEqualTo(requests);
        stream.onCompleted();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> waiting(master) == 0);
        assertThat(w.read("flood-" + (requests - 1)).orElseThrow().value()).hasSize(100);
    }
}
