package io.ferrite.server.local;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One supervisor per data directory: an exclusive lock on {@code DATA_DIR/local.lock}, which
 * holds the owner's pid so that a second {@code ferrite local} on the same directory can say
 * who has it. Released when the process ends, however it ends.
 */
final class DataDirLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock and writes this process's pid into the file.
     *
     * @param file the lock file (its directory is created)
     * @return the held lock
     * @throws StartFailure if another process holds it (naming its pid) or the file cannot be used
     */
    static DataDirLock acquire(Path file) throws StartFailure {
        FileChannel channel = null;
        try {
            Files.createDirectories(file.getParent());
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                String owner = Files.readString(file, StandardCharsets.UTF_8).trim();
                channel.close();
                throw new StartFailure("the data directory " + file.getParent() + " is in use by another"
                        + " 'ferrite local'" + (owner.isEmpty() ? "" : " (pid " + owner + ")")
                        + ": stop it (Ctrl-C in its terminal" + (owner.isEmpty() ? "" : ", or kill " + owner)
                        + ") or give this one its own directory with --data-dir DIR (ports never clash:"
                        + " each process takes a free one)");
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)),
                    0);
            channel.force(false);
            return new DataDirLock(channel, lock);
        } catch (IOException e) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw new StartFailure("cannot lock " + file + " (" + e.getMessage() + ")");
        }
    }

    /** Releases the lock and empties the pid. */
    @Override
    public void close() throws IOException {
        try {
            channel.truncate(0);
            lock.release();
        } finally {
            channel.close();
        }
    }
}
