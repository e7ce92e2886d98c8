package io.ferrite.client;

import io.ferrite.client.ops.Failures;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/** Writes many objects into a table in multi-write batches with a bounded number in flight. */
final class BulkLoad {
    static final int BATCH = 500;
    private static final int IN_FLIGHT = 8;

    private final Table table;
    private final Semaphore window = new Semaphore(IN_FLIGHT);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final List<WriteOp> pending = new ArrayList<>(BATCH);
    private long written;

    BulkLoad(Table table) {
        this.table = table;
    }

    /** Writes every object (its key and value; versions are the target's own). */
    static long writeAll(Table table, Iterator<ObjectValue> objects) {
        BulkLoad load = new BulkLoad(table);
        while (objects.hasNext()) {
            load.add(objects.next());
        }
        return load.finish();
    }

    void add(ObjectValue object) {
        pending.add(WriteOp.of(object.key(), object.value()));
        if (pending.size() == BATCH) {
            flush();
        }
    }

    private void flush() {
        if (pending.isEmpty()) {
            return;
        }
        rethrow();
        List<WriteOp> batch = List.copyOf(pending);
        pending.clear();
        window.acquireUninterruptibly();
        CompletableFuture<List<OpResult>> answer = table.multiWriteAsync(batch);
        answer.whenComplete((results, e) -> {
            if (e != null) {
                failure.compareAndSet(null, Failures.unwrap(e));
            } else {
                for (OpResult result : results) {
                    if (!result.isOk()) {
                        failure.compareAndSet(null, new FerriteException("a write was refused: " + result.outcome()));
                    }
                }
            }
            window.release();
        });
        written += batch.size();
    }

    /** Waits for every batch; throws the first failure. */
    long finish() {
        flush();
        window.acquireUninterruptibly(IN_FLIGHT);
        window.release(IN_FLIGHT);
        rethrow();
        return written;
    }

    private void rethrow() {
        Throwable t = failure.get();
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t != null) {
            throw new FerriteException("bulk write failed: " + t, t);
        }
    }
}
