package io.ferrite.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bounded smoke runs of the cluster benchmarks (the full runs are documented commands, not
 * tests): each starts its clusters, measures for a second, writes its JSON, and exits 0. What
 * is checked is that the command works end to end and its JSON has every case with no errors,
 * never its figures.
 */
class BenchSmokeTest {
    @TempDir
    Path dir;

    @Test
    void replicationBenchRunsEveryCaseAndWritesItsJson() throws Exception {
        Path json = dir.resolve("replication.json");
        int status = BenchMain.execute("replication", "--servers", "2", "--replicas", "0,1", "--in-flight", "1,8",
                "--seconds", "1", "--warmup-seconds", "0", "--jit-warmup-seconds", "0", "--segments", "2",
                "--json", json.toString());
        assertThat(status).isZero();
        String text = Files.readString(json);
        for (String replicas : new String[] {"0", "1"}) {
            for (String inFlight : new String[] {"1", "8"}) {
                assertThat(text).contains("{\"replicas\":" + replicas + ",\"inFlight\":" + inFlight + ",");
            }
        }
        assertThat(count(text, "\"errors\":0,")).isEqualTo(4);
        assertThat(text).contains("\"segmentStreamMBps\":").contains("\"segmentStreamIpcMBps\":");
    }

    @Test
    void rpcBenchRunsEveryCaseAndWritesItsJson() throws Exception {
        Path json = dir.resolve("rpc.json");
        int status = BenchMain.execute("rpc", "--servers", "1", "--keys", "1000", "--in-flight", "1,8", "--seconds", "1",
                "--warmup-seconds", "0", "--jit-warmup-seconds", "0", "--json", json.toString());
        assertThat(status).isZero();
        String text = Files.readString(json);
        assertThat(count(text, "\"op\":\"read\"")).isEqualTo(2);
        assertThat(count(text, "\"op\":\"write\"")).isEqualTo(2);
    }

    @Test
    void servicesBenchTakesSnapshotsReadsThemBackAndWritesItsJson() throws Exception {
        Path json = dir.resolve("services.json");
        int status = BenchMain.execute("services", "--data", "4m", "--value-bytes", "100", "--no-redis", "--json",
                json.toString());
        assertThat(status).isZero();
        String text = Files.readString(json);
        assertThat(text).contains("\"valueBytes\":100,\"objects\":41943,").contains("\"snapshotReadsCorrect\":true,")
                .contains("\"snapshotObjectsRead\":41943,").contains("\"notMeasured\":[\"clone\",\"migration\"]");
    }

    @Test
    void badFlagsAreRefusedWithStatusTwo() {
        assertThat(BenchMain.execute("replication", "--servers", "2", "--replicas", "2", "--json",
                dir.resolve("x.json").toString())).isEqualTo(2);
        assertThat(BenchMain.execute("replication", "--transport", "carrier-pigeon", "--json",
                dir.resolve("x.json").toString())).isEqualTo(2);
        assertThat(dir.resolve("x.json")).doesNotExist();
    }

    private static int count(String text, String what) {
        Matcher m = Pattern.compile(Pattern.quote(what)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
