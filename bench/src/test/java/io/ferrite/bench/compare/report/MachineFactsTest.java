package io.ferrite.bench.compare.report;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Parsing the {@code /proc} texts the report's machine line comes from (sample texts, not this machine's). */
class MachineFactsTest {
    @Test
    void parsesCpuMemoryAndKernel() {
        String cpuinfo = "processor\t: 0\nvendor_id\t: Sample\nmodel name\t: Sample CPU 9000\n\n"
                + "processor\t: 1\nmodel name\t: Sample CPU 9000\n";
        assertThat(MachineFacts.cpuModel(cpuinfo)).isEqualTo("Sample CPU 9000");
        assertThat(MachineFacts.processorCount(cpuinfo)).isEqualTo(2);
        assertThat(MachineFacts.memoryTotalBytes("MemTotal:       2048 kB\nMemFree: 1 kB\n")).isEqualTo(2048L * 1024);
        assertThat(MachineFacts.kernel("Linux version 6.1.0-sample (builder@host) (gcc 12) #1 SMP"))
                .isEqualTo("Linux 6.1.0-sample");
        assertThat(MachineFacts.cpuModel("processor\t: 0\n")).isEqualTo(MachineFacts.UNKNOWN);
        assertThat(MachineFacts.memoryTotalBytes("")).isEqualTo(-1);
    }

    @Test
    void readsThisMachineWithoutFailing() {
        MachineFacts facts = MachineFacts.read();
        assertThat(facts.availableProcessors()).isPositive();
        assertThat(facts.describe()).contains(facts.kernel());
        assertThat(facts.jdk()).startsWith(Runtime.version().toString());
    }
}
