package io.ferrite.chaos.history;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HistoryFileTest {

    @TempDir
    Path dir;

    @Test
    void roundTripsEveryOperationResultFaultAndFinalState() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 5, Op.write("k", "a \"quoted\"\n\\"), Result.written(1))
                .op(1, 1, 6, Op.cas("k", 1, "b"), Result.refusedWrongVersion(3))
                .op(1, 7, 8, Op.cas("k", 1, "b"), Result.refusedNotFound())
                .op(2, 2, 9, Op.read("k"), Result.found("a", 1))
                .op(2, 10, 11, Op.read("j"), Result.absent())
                .op(0, 12, 13, Op.incr("c", 4), Result.counter(4))
                .op(0, 14, 15, Op.multiWrite(List.of("a", "b"), List.of("a1", "b1")),
                        Result.multi(List.of(Result.written(1), Result.refusedNotFound())))
                .op(0, 16, 17, Op.multiRead(List.of("a", "b")),
                        Result.multi(List.of(Result.found("a1", 1), Result.absent())))
                .unknown(3, 18, 30, Op.write("k", "z"))
                .failed(4, 19, 20, Op.read("k"));
        h.setNowMs(21);
        final int f = h.history.faultInjected("partition");
        h.setNowMs(25);
        h.history.faultHealed(f);
        h.setNowMs(26);
        h.history.faultInjected("kill-master");
        h.invoke(5, 27, Op.read("k")); // never completes
        final FinalState cluster = new FinalState(Map.of("k", Result.found("z", 9), "j", Result.absent()),
                Map.of("c", 4L));
        final Path file = dir.resolve("run.jsonl");
        HistoryFile.write(file, h.history, cluster, null, 42);

        final HistoryFile.Contents c = HistoryFile.read(file);
        assertThat(c.seed()).isEqualTo(42);
        assertThat(c.history().events()).containsExactlyInAnyOrderElementsOf(h.history.events());
        assertThat(c.history().operations()).containsExactlyElementsOf(h.history.operations());
        assertThat(c.history().faults()).containsExactlyElementsOf(h.history.faults());
        assertThat(c.cluster()).isEqualTo(cluster);
        assertThat(c.certified()).isEqualTo(FinalState.empty());
        assertThat(h.history.operations().getLast().status()).isEqualTo(Operation.Status.INFO);
    }

    @Test
    void malformedLineNamesItsLine() throws Exception {
        final Path file = dir.resolve("bad.jsonl");
        Files.writeString(file, "{\"type\":\"seed\",\"seed\":1}\n{\"type\":\"invoke\",\"id\":\n");
        assertThatThrownBy(() -> HistoryFile.read(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad.jsonl:2");
    }

    @Test
    void historyRejectsMisuse() {
        final History h = new History();
        final long id = h.invoke(0, Op.read("k"));
        assertThatThrownBy(() -> h.ok(id, Result.written(1))).isInstanceOf(IllegalArgumentException.class);
        h.ok(id, Result.absent());
        assertThatThrownBy(() -> h.info(id, "again")).isInstanceOf(IllegalStateException.class);
    }
}
