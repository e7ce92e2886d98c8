package io.ferrite.master;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The log position each answer depends on (linearizable reads, I4): a read waits for the entry
 * it returns, a "doesn't exist" for the newest removal of its stripe, a rejection for the entry
 * (or removal) it was decided on.
 */
class AnswerPositionTest {
    private ObjectManager engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private ObjectManager newEngine() {
        return new ObjectManager(new EngineContext().memoryBytes(64L << 20).segmentSizeBytes(2 << 20).conclude());
    }

    @Test
    void aReadDependsOnTheEndOfTheEntryItReturns() {
        engine = newEngine();
        ObjectResult out = new ObjectResult();
        out.clearAppended();
        assertThat(engine.write(1, bytes("a"), bytes("one"), RejectRules.NONE, out)).isEqualTo(Status.OK);
        long a = out.awaitPosition();
        assertThat(a).isNotEqualTo(LogPosition.NONE);
        out.clearAppended();
        engine.write(1, bytes("b"), bytes("two"), RejectRules.NONE, out);
        long b = out.awaitPosition();
        assertThat(b).isGreaterThan(a);

        out.clearAppended();
        assertThat(engine.read(1, bytes("a"), out)).isEqualTo(Status.OK);
        assertThat(out.awaitPosition()).as("a read of a waits for a's entry, not for b's").isEqualTo(a);
        assertThat(out.appendSegmentId()).isEqualTo(LogPosition.segmentId(a));
        assertThat(out.appendLength()).isEqualTo(LogPosition.length(a));

        // Several items in one request: the latest position counts.
        engine.read(1, bytes("b"), out);
        assertThat(out.awaitPosition()).isEqualTo(b);
        engine.read(1, bytes("a"), out);
        assertThat(out.awaitPosition()).isEqualTo(b);
    }

    @Test
    void notFoundDependsOnTheTombstoneAndNothingWhenNothingWasRemoved() {
        engine = newEngine();
        ObjectResult out = new ObjectResult();
        out.clearAppended();
        assertThat(engine.read(1, bytes("never"), out)).isEqualTo(Status.OBJECT_DOESNT_EXIST);
        assertThat(out.awaitPosition()).as("nothing removed yet: nothing to wait for").isEqualTo(LogPosition.NONE);
        assertThat(engine.newestRemovalPosition()).isEqualTo(LogPosition.NONE);

        engine.write(1, bytes("k"), bytes("v"), RejectRules.NONE, out);
        out.clearAppended();
        assertThat(engine.remove(1, bytes("k"), RejectRules.NONE, out)).isEqualTo(Status.OK);
        long tombstone = out.awaitPosition();
        out.clearAppended();
        engine.write(1, bytes("later"), bytes("x"), RejectRules.NONE, out);
        long later = out.awaitPosition();
        assertThat(later).isGreaterThan(tombstone);

        out.clearAppended();
        assertThat(engine.read(1, bytes("k"), out)).isEqualTo(Status.OBJECT_DOESNT_EXIST);
        assertThat(out.awaitPosition()).as("gone: wait for the tombstone").isEqualTo(tombstone);
        assertThat(engine.newestRemovalPosition()).isEqualTo(tombstone);

        out.clearAppended();
        assertThat(engine.remove(1, bytes("k"), RejectRules.NONE, out)).isEqualTo(Status.OBJECT_DOESNT_EXIST);
        assertThat(out.awaitPosition()).isEqualTo(tombstone);
        out.clearAppended();
        assertThat(engine.write(1, bytes("k"), bytes("v"), RejectRules.ifVersion(1), out))
                .isEqualTo(Status.OBJECT_DOESNT_EXIST);
        assertThat(out.awaitPosition()).isEqualTo(tombstone);
    }

    @Test
    void rejectionsDependOnTheEntryTheyWereDecidedOn() {
        engine = newEngine();
        ObjectResult out = new ObjectResult();
        out.clearAppended();
        engine.write(1, bytes("k"), bytes("text"), RejectRules.NONE, out);
        long k = out.awaitPosition();
        long version = out.version();
        out.clearAppended();
        engine.write(1, bytes("other"), bytes("x"), RejectRules.NONE, out);

        out.clearAppended();
        assertThat(engine.write(1, bytes("k"), bytes("y"), RejectRules.ifVersion(version + 5), out))
                .isEqualTo(Status.WRONG_VERSION);
        assertThat(out.awaitPosition()).isEqualTo(k);
        out.clearAppended();
        assertThat(engine.write(1, bytes("k"), bytes("y"), RejectRules.IF_ABSENT, out)).isEqualTo(Status.OBJECT_EXISTS);
        assertThat(out.awaitPosition()).isEqualTo(k);
        out.clearAppended();
        assertThat(engine.remove(1, bytes("k"), RejectRules.ifVersion(version + 5), out))
                .isEqualTo(Status.WRONG_VERSION);
        assertThat(out.awaitPosition()).isEqualTo(k);
        out.clearAppended();
        assertThat(engine.incrementLong(1, bytes("k"), 1, RejectRules.NONE, out)).isEqualTo(Status.NOT_A_NUMBER);
        assertThat(out.awaitPosition()).isEqualTo(k);

        out.clearAppended();
        assertThat(engine.incrementLong(1, bytes("n"), 3, RejectRules.NONE, out)).isEqualTo(Status.OK);
        assertThat(out.awaitPosition()).as("an increment's result waits for its own entry").isGreaterThan(k);
    }

    @Test
    void enumerateReportsEachObjectsPosition() {
        engine = newEngine();
        ObjectResult out = new ObjectResult();
        List<Long> written = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            out.clearAppended();
            engine.write(7, bytes("key-" + i), bytes("v" + i), RejectRules.NONE, out);
            written.add(out.awaitPosition());
        }
        List<Long> seen = new ArrayList<>();
        engine.enumerate(7, 0, -1L, 0, null, 1_000, new ObjectManager.ObjectVisitor() {
            @Override
            public void visit(byte[] key, byte[] value, long version, long timestampSeconds, long keyHash) {
            }

            @Override
            public void dependsOn(long position) {
                seen.add(position);
            }
        });
        assertThat(seen).containsExactlyInAnyOrderElementsOf(written);
    }

    @Test
    void positionsPackInLogOrder() {
        assertThat(LogPosition.of(3, 10)).isLessThan(LogPosition.of(3, 11));
        assertThat(LogPosition.of(3, (8 << 20))).isLessThan(LogPosition.of(4, 0));
        assertThat(LogPosition.segmentId(LogPosition.of(123_456_789L, 8 << 20))).isEqualTo(123_456_789L);
        assertThat(LogPosition.length(LogPosition.of(123_456_789L, 8 << 20))).isEqualTo(8 << 20);
        assertThat(LogPosition.segmentId(LogPosition.NONE)).isEqualTo(-1);
    }
}
