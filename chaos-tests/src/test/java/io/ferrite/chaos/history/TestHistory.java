package io.ferrite.chaos.history;

import java.util.concurrent.atomic.AtomicLong;

/** Builds histories by hand: each call names its time (in ms, for readability). */
final class TestHistory {
    private final AtomicLong nowNs = new AtomicLong();
    final History history = new History(nowNs::get);

    long invoke(int process, long atMs, Op op) {
        nowNs.set(atMs * 1_000_000);
        return history.invoke(process, op);
    }

    void ok(long id, long atMs, Result result) {
        nowNs.set(atMs * 1_000_000);
        history.ok(id, result);
    }

    void info(long id, long atMs) {
        nowNs.set(atMs * 1_000_000);
        history.info(id, "timeout");
    }

    void fail(long id, long atMs) {
        nowNs.set(atMs * 1_000_000);
        history.fail(id, "not sent");
    }

    /** A complete operation from {@code fromMs} to {@code toMs}. */
    TestHistory op(int process, long fromMs, long toMs, Op op, Result result) {
        ok(invoke(process, fromMs, op), toMs, result);
        return this;
    }

    /** An operation with unknown outcome invoked at {@code fromMs}. */
    TestHistory unknown(int process, long fromMs, long toMs, Op op) {
        info(invoke(process, fromMs, op), toMs);
        return this;
    }

    /** A definitely failed operation. */
    TestHistory failed(int process, long fromMs, long toMs, Op op) {
        fail(invoke(process, fromMs, op), toMs);
        return this;
    }

    void setNowMs(long ms) {
        nowNs.set(ms * 1_000_000);
    }
}
