package io.ferrite.chaos.history;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckReportTest {

    @TempDir
    Path dir;

    @Test
    void jsonHasTheAgreedShape() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 5, Op.write("k", "a"), Result.written(1))
                .failed(1, 1000, 1001, Op.write("k", "b"))
                .op(1, 1500, 1600, Op.read("k"), Result.found("a", 1));
        final CheckReport r = CheckReport.check(7, h.history, java.util.List.of(new Fault("kill-master", 900_000_000L,
                Fault.NOT_HEALED)), new FinalState(Map.of("k", Result.found("a", 1)), Map.of()), null,
                new LinearizabilityChecker());
        assertThat(r.toJson()).startsWith("{\"seed\":7,\"operations\":3,\"faults\":[{\"kind\":\"kill-master\","
                + "\"atMs\":900,\"healedAtMs\":null,\"recoveredMs\":700,\"recoveredFromHealMs\":null,\"failingOps\":1,"
                + "\"slowestOkMs\":100}],"
                + "\"lostAcknowledgedWrites\":0,\"linearizabilityViolations\":0,\"linearizabilityUnknown\":0,"
                + "\"unavailableMsTotal\":600,");
        assertThat(Json.parse(r.toJson())).isInstanceOf(Map.class);
        assertThat(r.passed()).isTrue();
        assertThat(r.explain()).contains("PASSED");
    }

    @Test
    void savedRunReChecksToTheSameReport() {
        final SimulatedWorkload w = new SimulatedWorkload(11, 4, 3, 1, 0.1, 0.05).run(400);
        final FinalState end = w.finalState();
        final CheckReport before = CheckReport.check(11, w.history, end, end);
        final Path file = dir.resolve("run.jsonl");
        HistoryFile.write(file, w.history, end, end, 11);
        final HistoryFile.Contents c = HistoryFile.read(file);
        final CheckReport after = CheckReport.check(c.seed(), c.history(), c.cluster(), c.certified());
        assertThat(after.toJson()).isEqualTo(before.toJson());
        assertThat(after.linearizabilityViolations()).isZero();
    }

    @Test
    void lostWriteAndViolationFailTheRun() {
        final TestHistory h = new TestHistory()
                .op(0, 0, 5, Op.write("k", "a"), Result.written(1))
                .op(0, 10, 15, Op.write("k", "b"), Result.written(2))
                .op(1, 20, 25, Op.read("k"), Result.found("a", 1));
        final CheckReport r = CheckReport.check(1, h.history,
                new FinalState(Map.of("k", Result.found("a", 1)), Map.of()), null);
        assertThat(r.lostAcknowledgedWrites()).isEqualTo(1);
        assertThat(r.linearizabilityViolations()).isEqualTo(1);
        assertThat(r.passed()).isFalse();
        assertThat(r.toJson()).contains("\"violatingKeys\":[\"k\"]", "\"where\":\"cluster\"");
        System.out.println(r.explain());
    }
}
