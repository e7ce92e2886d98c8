package io.ferrite.master.epoch;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.master.TestSeeds;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class EpochManagerTest {
    private final EpochManager epochs = new EpochManager();

    @Test
    void releaseWaitsForAnOperationThatEnteredBeforeRetire() {
        int token = epochs.enter();
        AtomicInteger released = new AtomicInteger();
        epochs.retire(released::incrementAndGet);
        for (int i = 0; i < 10; i++) {
            epochs.reclaim();
        }
        assertThat(released).as("released while an earlier operation is inside").hasValue(0);
        assertThat(epochs.pendingReleases()).isEqualTo(1);

        epochs.exit(token);
        assertThat(epochs.reclaim()).isEqualTo(1);
        assertThat(released).hasValue(1);
        assertThat(epochs.pendingReleases()).isZero();
    }

    @Test
    void releaseRunsAtOnceWhenNothingIsInside() {
        AtomicInteger released = new AtomicInteger();
        epochs.retire(released::incrementAndGet);
        assertThat(released).hasValue(1);
    }

    @Test
    void releaseWaitsForAnOperationOnAnotherThread() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch leave = new CountDownLatch(1);
        CompletableFuture<Void> operation = CompletableFuture.runAsync(() -> {
            int token = epochs.enter();
            try {
                inside.countDown();
                assertThat(leave.await(30, TimeUnit.SECONDS)).isTrue();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } finally {
                epochs.exit(token);
            }
        });
        assertThat(inside.await(30, TimeUnit.SECONDS)).isTrue();
        AtomicInteger released = new AtomicInteger();
        epochs.retire(released::incrementAndGet);
        // Later operations come and go on this thread; the earlier one still blocks the release.
        for (int i = 0; i < 100; i++) {
            epochs.exit(epochs.enter());
            epochs.reclaim();
        }
        assertThat(released).hasValue(0);

        leave.countDown();
        operation.get(30, TimeUnit.SECONDS);
        epochs.reclaim();
        assertThat(released).hasValue(1);
    }

    @Test
    void releasesRunInOrderAndOnlyOnce() {
        List<Integer> order = new ArrayList<>();
        int first = epochs.enter();
        epochs.retire(() -> order.add(1));
        epochs.retire(() -> order.add(2));
        int second = epochs.enter();
        epochs.retire(() -> order.add(3));
        epochs.exit(first);
        epochs.reclaim();
        assertThat(order).as("the operation that entered later still blocks release 3").doesNotContain(3);
        epochs.exit(second);
        epochs.reclaim();
        epochs.reclaim();
        assertThat(order).containsExactly(1, 2, 3);
    }

    /**
     * Readers pick up the current resource inside an epoch and keep checking it; a writer swaps
     * in new resources and retires the old ones. No reader may see its resource released while
     * it is still inside.
     */
    @Test
    void noReaderEverSeesItsResourceReleased() throws Exception {
        long seed = TestSeeds.seed(0xE90C_0001L);
        final class Resource {
            volatile boolean released;
        }
        AtomicReference<Resource> current = new AtomicReference<>(new Resource());
        AtomicBoolean done = new AtomicBoolean();
        AtomicLong violations = new AtomicLong();
        AtomicLong reads = new AtomicLong();
        List<CompletableFuture<Void>> readers = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            long readerSeed = seed + r;
            readers.add(CompletableFuture.runAsync(() -> {
                Random random = new Random(readerSeed);
                while (!done.get()) {
                    int token = epochs.enter();
                    try {
                        Resource resource = current.get();
                        for (int i = random.nextInt(50); i >= 0; i--) {
                            if (resource.released) {
                                violations.incrementAndGet();
                            }
                            Thread.onSpinWait();
                        }
                    } finally {
                        epochs.exit(token);
                    }
                    reads.incrementAndGet();
                }
            }));
        }
        AtomicLong releasedCount = new AtomicLong();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        int swaps = 0;
        while (System.nanoTime() < deadline || reads.get() < 1_000) {
            Resource old = current.getAndSet(new Resource());
            epochs.retire(() -> {
                old.released = true;
                releasedCount.incrementAndGet();
            });
            swaps++;
        }
        done.set(true);
        for (CompletableFuture<Void> reader : readers) {
            reader.get(30, TimeUnit.SECONDS);
        }
        epochs.reclaim();
        epochs.reclaim();
        assertThat(violations).as(TestSeeds.describe(seed) + "reads of a released resource").hasValue(0);
        assertThat(releasedCount.get()).as("releases that ran").isEqualTo(swaps);
        assertThat(epochs.pendingReleases()).isZero();
    }
}
