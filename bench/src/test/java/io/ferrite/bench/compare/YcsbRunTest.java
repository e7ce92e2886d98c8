package io.ferrite.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Parsing of YCSB 0.17's text exporter output, as its HDR histogram measurement writes it. */
class YcsbRunTest {
    @Test
    void parsesThroughputPercentilesAndErrorsPerOperation() {
        List<String> out = List.of(
                "Loading workload...",
                "[OVERALL], RunTime(ms), 2000",
                "[OVERALL], Throughput(ops/sec), 5000.5",
                "[CLEANUP], Operations, 8",
                "[CLEANUP], 99thPercentileLatency(us), 4000",
                "[READ], Operations, 9000",
                "[READ], AverageLatency(us), 300.5",
                "[READ], 50thPercentileLatency(us), 250",
                "[READ], 99thPercentileLatency(us), 4100",
                "[READ], 99.9PercentileLatency(us), 9000",
                "[READ], Return=OK, 8990",
                "[READ], Return=NOT_FOUND, 10",
                "[READ-FAILED], Operations, 10",
                "[UPDATE], Operations, 1000",
                "[UPDATE], 50thPercentileLatency(us), 400",
                "[UPDATE], 99thPercentileLatency(us), 5000",
                "[UPDATE], 99.9PercentileLatency(us), 12000",
                "[UPDATE], Return=OK, 998",
                "[UPDATE], Return=ERROR, 2");
        YcsbRun.Result r = YcsbRun.parse(out);
        assertThat(r.throughput()).isEqualTo(5000.5);
        assertThat(r.runtimeMs()).isEqualTo(2000);
        assertThat(r.ops().keySet()).containsExactly("READ", "UPDATE");
        assertThat(r.ops().get("READ")).isEqualTo(new YcsbRun.OpFigures(9000, 250, 4100, 9000, 10));
        assertThat(r.ops().get("UPDATE").errors()).isEqualTo(2);
        List<CompareRow> rows = YcsbRun.rows("redis-always", "A", 100, r);
        assertThat(rows).contains(new CompareRow("redis-always", "A", 100, "p999", "UPDATE", 12000, "us"),
                new CompareRow("redis-always", "A", 100, "throughput", "ALL", 5000.5, "ops/s"));
    }

    @Test
    void outputWithoutThroughputIsAnError() {
        assertThatThrownBy(() -> YcsbRun.parse(List.of("Error in initializing datastore bindings.")))
                .isInstanceOf(IllegalStateException.class);
    }
}
