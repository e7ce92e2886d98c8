package io.ferrite.client;

import io.ferrite.client.ops.Enumerator;

import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An iterator over every object of a table, from {@link Table#enumerate()}. Objects come
 * master after master, in cursor order (bit-reversed key hash, then key) within each master; the next batch is fetched while the
 * caller goes through the current one. Broken streams are resumed from their cursor without
 * repeating or losing objects (see {@link EnumerationInterruptedException} for the one case
 * that cannot be resumed). Not a snapshot: objects written or removed during the enumeration
 * may or may not be seen. Not thread-safe; close it when stopping early.
 */
public final class TableScanner implements Iterator<ObjectValue>, AutoCloseable {
    private static final Object END = new Object();

    private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private final long safetyWaitNs;
    private Enumerator enumerator;
    private Iterator<ObjectValue> current = Collections.emptyIterator();
    private boolean ended;

    TableScanner(long timeoutNs) {
        this.safetyWaitNs = 2 * timeoutNs + TimeUnit.SECONDS.toNanos(1);
    }

    Enumerator.Sink sink() {
        return new Enumerator.Sink() {
            @Override
            public void onBatch(List<ObjectValue> objects) {
                events.add(objects);
            }

            @Override
            public void onEnd(Throwable failure) {
                events.add(failure == null ? END : failure);
            }
        };
    }

    void start(Enumerator e) {
        this.enumerator = e;
        e.start();
    }

    /**
     * Whether another object follows; waits for the next batch if needed.
     *
     * @return true if {@link #next()} has an object
     * @throws FerriteException if the enumeration failed (timeout, table dropped, interrupted)
     */
    @Override
    public boolean hasNext() {
        while (!current.hasNext()) {
            if (ended) {
                return false;
            }
            Object event;
            try {
                event = events.poll(safetyWaitNs, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new FerriteException("interrupted while enumerating", e);
            }
            if (event == null) {
                close();
                throw new FerriteTimeoutException("enumeration produced nothing in time", null);
            }
            if (event == END) {
                ended = true;
                return false;
            }
            if (event instanceof Throwable t) {
                ended = true;
                enumerator.cancel();
                if (t instanceof RuntimeException r) {
                    throw r;
                }
                throw new FerriteException("enumeration failed: " + t, t);
            }
            @SuppressWarnings("unchecked")
            List<ObjectValue> batch = (List<ObjectValue>) event;
            current = batch.iterator();
            enumerator.requestNext();
        }
        return true;
    }

    /**
     * The next object.
     *
     * @return the object
     * @throws NoSuchElementException at the end
     */
    @Override
    public ObjectValue next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return current.next();
    }

    /** Stops the enumeration (cancels the stream in flight); idempotent. */
    @Override
    public void close() {
        ended = true;
        current = Collections.emptyIterator();
        if (enumerator != null) {
            enumerator.cancel();
        }
    }
}
