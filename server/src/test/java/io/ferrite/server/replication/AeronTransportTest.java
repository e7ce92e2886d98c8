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

    /**
     * IPC stream ids on one media driver: two clients claim different ones; a claim left by a
     * process that no longer runs is taken over; a closed transport's claims are released.
     */
    @Test
    void ipcStreamClaimsAreUniquePerDriverAndDeadClaimsAreTakenOver() throws Exception {
        Path driverDir = Path.of("/dev/shm").resolve("ferrite-aeron-claims-" + ProcessHandle.current().pid() + "-1");
        io.aeron.driver.MediaDriver driver = AeronTransport.launchDriver(driverDir);
        try {
            Process exited = new ProcessBuilder("true").start();
            exited.waitFor();
            Path claims = Files.createDirectories(driverDir.resolve(AeronTransport.IPC_STREAMS_DIR));
            Files.writeString(claims.resolve(Integer.toString(AeronTransport.FIRST_IPC_STREAM)),
                    Long.toString(exited.pid()));
            int first;
            try (AeronTransport a = AeronTransport.connect(driverDir, AeronTransport.Options.DEFAULT);
                 AeronTransport b = AeronTransport.connect(driverDir, AeronTransport.Options.DEFAULT)) {
                first = a.claimIpcStream();
                int second = b.claimIpcStream();
                int third = a.claimIpcStream();
                assertThat(first).as("the dead process's claim is taken over").isEqualTo(AeronTransport.FIRST_IPC_STREAM);
                assertThat(java.util.List.of(first, second, third)).doesNotHaveDuplicates();
                assertThat(a.driverId()).isEqualTo(b.driverId());
            }
            try (AeronTransport c = AeronTransport.connect(driverDir, AeronTransport.Options.DEFAULT)) {
                assertThat(c.claimIpcStream()).as("claims of closed transports are free again").isEqualTo(first);
            }
        } finally {
            driver.close();
        }
    }
}
