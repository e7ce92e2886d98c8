package io.ferrite.server.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AeronTransportTest {
    @TempDir
    Path dir;

    /** Driver directories of dead processes go; those of live ones (this one) stay. */
    @Test
    void staleDriverDirectoriesOfDeadProcessesAreRemoved() throws Exception {
        Process exited = new ProcessBuilder("true").start();
        exited.waitFor();
        long dead = exited.pid();
        long self = ProcessHandle.current().pid();
        Path stale = Files.createDirectories(dir.resolve("ferrite-aeron-t-" + dead + "-1"));
        Files.writeString(stale.resolve("cnc.dat"), "x");
        Path live = Files.createDirectories(dir.resolve("ferrite-aeron-t-" + self + "-1"));
        Path otherPrefix = Files.createDirectories(dir.resolve("something-else-" + dead + "-1"));

        AeronTransport.removeStale(dir.resolve("ferrite-aeron-t-" + self + "-2"));

        assertThat(stale).doesNotExist();
        assertThat(live).exists();
        assertThat(otherPrefix).exists();
    }
}
