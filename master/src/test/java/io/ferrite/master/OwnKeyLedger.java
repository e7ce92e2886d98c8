package io.ferrite.master;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What one writer has done to the keys only it writes, for concurrent readers to judge what
 * they read. States are encoded as {@code sequence << 1 | removed}; 0 is "never written".
 *
 * <p>Per key it keeps the last acknowledged state, the last operation started and, apart, the
 * sequence of the last <em>remove</em> started. The last one is what decides whether a reader
 * may see a key absent: a remove started during the read and a write started right after it
 * leave "last started" naming the write, though the read may well have fallen between the two
 * (the key was gone then). Judging by "last started" alone blamed the engine for exactly that.
 *
 * <p>The writer records a start before its engine call and an acknowledgement after it returns
 * (volatile stores); a reader reads {@link #acknowledged} before its engine call and
 * {@link #mayBeAbsent} after it.
 */
final class OwnKeyLedger {
    private final AtomicLongArray acknowledged;
    private final AtomicLongArray started;
    private final AtomicLongArray removeStarted;

    OwnKeyLedger(int keys) {
        this.acknowledged = new AtomicLongArray(keys);
        this.started = new AtomicLongArray(keys);
        this.removeStarted = new AtomicLongArray(keys);
    }

    static long state(long sequence, boolean removed) {
        return sequence << 1 | (removed ? 1 : 0);
    }

    static long sequenceOf(long state) {
        return state >>> 1;
    }

    /** True for a state that holds a value (written and not removed since). */
    static boolean present(long state) {
        return state != 0 && (state & 1) == 0;
    }

    /** Before the engine call of a write. */
    void writeStarted(int key, long sequence) {
        started.set(key, state(sequence, false));
    }

    /** Before the engine call of a remove. */
    void removeStarted(int key, long sequence) {
        removeStarted.set(key, sequence);
        started.set(key, state(sequence, true));
    }

    /** After the engine acknowledged a write ({@code removed} false) or a remove of a present key. */
    void acknowledge(int key, long sequence, boolean removed) {
        acknowledged.set(key, state(sequence, removed));
    }

    /** The last acknowledged state; read it before a read to learn what the read must at least see. */
    long acknowledged(int key) {
        return acknowledged.get(key);
    }

    /** The last operation started on the key (for failure messages). */
    long lastStarted(int key) {
        return started.get(key);
    }

    /** Sequence of the last remove started on the key (0: none). */
    long lastRemoveStarted(int key) {
        return removeStarted.get(key);
    }

    /**
     * Whether a read that began after the key's state was {@code acknowledgedBefore} may answer
     * "doesn't exist": the key was absent then, or a remove of it has started since (it may have
     * taken effect during the read, whatever was started after it). Call after the read.
     */
    boolean mayBeAbsent(int key, long acknowledgedBefore) {
        return !present(acknowledgedBefore) || removeStarted.get(key) > sequenceOf(acknowledgedBefore);
    }
}
