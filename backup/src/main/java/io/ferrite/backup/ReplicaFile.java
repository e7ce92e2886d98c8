package io.ferrite.backup;

import io.ferrite.log.SegmentCertificate;
import io.ferrite.log.SegmentIterator;
import io.ferrite.log.SegmentMemory;
import io.ferrite.log.ValidationResult;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One replica of one segment in a file: a 4 KiB header page, then the segment's bytes. A
 * replica being filled is a memory-mapped file under the buffer directory (its bytes survive a
 * crash of the backup process: they are in the page cache, or on tmpfs); a complete one is
 * written to the backup directory and forced to disk.
 *
 * <pre>
 *   header (little-endian):
 *     0  magic "FRTREPL1"      8  master id     16  segment id   24  epoch
 *    32  capacity (u32)       36  length (u32: bytes held)
 *    40  certificate length   44  certificate checksum            48  closed (u8)
 *   4096 data [0, length)
 * </pre>
 *
 * The data is written before the length and certificate that cover it (release stores), so
 * after a crash the header never claims bytes that were not stored. The certificate's length
 * and checksum are one aligned 8-byte word written by a single store: written as two 4-byte
 * stores, a kill -9 between them left a new checksum beside the old length, and the reloaded
 * replica failed verification (seen once in {@code BackupProcessTest}). Not thread-safe: the
 * {@link ReplicaStore} serializes access.
 */
final class ReplicaFile implements AutoCloseable {
    static final int HEADER_BYTES = 4096;
    private static final long MAGIC = 0x314C_5045_5254_5246L; // "FRTREPL1" little-endian
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    /** Length, offset 36. */
    private static final java.lang.invoke.VarHandle LENGTH = ValueLayout.JAVA_INT.varHandle();
    /** Certificate, offset 40: length in the low half, checksum in the high half (little-endian: 40 and 44). */
    private static final java.lang.invoke.VarHandle CERTIFICATE = ValueLayout.JAVA_LONG.varHandle();
    /** Closed flag, offset 48. */
    private static final java.lang.invoke.VarHandle CLOSED = ValueLayout.JAVA_BYTE.varHandle();

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapped;

    private ReplicaFile(Path path, Arena arena, MemorySegment mapped) {
        this.path = path;
        this.arena = arena;
        this.mapped = mapped;
    }

    /**
     * Creates (or truncates) a buffer file for a new replica, allocates all of its blocks, and
     * maps it.
     *
     * @throws StorageException if the buffer's file system is full or fails (no file is left)
     */
    static ReplicaFile create(Path path, long masterId, long segmentId, long epoch, int capacity) throws IOException {
        ReplicaFile file;
        try {
            file = map(path, HEADER_BYTES + (long) capacity, true);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // Reported through the allocation failure; a leftover is truncated by the next create.
            }
            throw StorageException.of(StorageException.Op.ALLOCATE, "cannot create buffer " + path, e);
        }
        MemorySegment m = file.mapped;
        m.set(LONG, 8, masterId);
        m.set(LONG, 16, segmentId);
        m.set(LONG, 24, epoch);
        m.set(INT, 32, capacity);
        m.set(INT, 36, 0);
        m.set(INT, 40, 0);
        m.set(INT, 44, 0);
        m.set(ValueLayout.JAVA_BYTE, 48, (byte) 0);
        m.set(LONG, 0, MAGIC);
        return file;
    }

    /** Maps an existing replica file (a buffer or a flushed replica) to read or continue it. */
    static ReplicaFile open(Path path) throws IOException {
        long size = Files.size(path);
        if (size < HEADER_BYTES) {
            throw new IOException(path + ": " + size + " bytes, shorter than the replica header");
        }
        ReplicaFile file = map(path, size, false);
        if (file.mapped.get(LONG, 0) != MAGIC) {
            file.close();
            throw new IOException(path + ": not a replica file (bad magic)");
        }
        if (file.length() > file.capacity() || HEADER_BYTES + (long) file.length() > size) {
            file.close();
            throw new IOException(path + ": header claims " + file.length() + " bytes, the file holds "
                    + (size - HEADER_BYTES));
        }
        return file;
    }

    private static ReplicaFile map(Path path, long size, boolean create) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = create
                ? FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            if (create) {
                channel.truncate(0);
                // Every block allocated now: a sparse file that a full file system cannot back
                // turns a later store into the mapping into SIGBUS, which kills the process.
                FileSpace.allocate(path, channel, size);
            }
            return new ReplicaFile(path, arena, channel.map(FileChannel.MapMode.READ_WRITE, 0, size, arena));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    Path path() {
        return path;
    }

    long masterId() {
        return mapped.get(LONG, 8);
    }

    long segmentId() {
        return mapped.get(LONG, 16);
    }

    long epoch() {
        return mapped.get(LONG, 24);
    }

    int capacity() {
        return mapped.get(INT, 32);
    }

    int length() {
        return (int) LENGTH.getAcquire(mapped, 36L);
    }

    SegmentCertificate certificate() {
        long word = (long) CERTIFICATE.getAcquire(mapped, 40L);
        return new SegmentCertificate((int) word, (int) (word >>> 32));
    }

    boolean closed() {
        return mapped.get(ValueLayout.JAVA_BYTE, 48) != 0;
    }

    /** Stores bytes at the end; the length moves after them. */
    void append(MemorySegment source, int count) {
        int length = length();
        MemorySegment.copy(source, 0, mapped, HEADER_BYTES + (long) length, count);
        LENGTH.setRelease(mapped, 36L, length + count);
    }

    /** Records the certificate in one store (never half of it after a crash). */
    void certify(int certificateLength, int checksum) {
        CERTIFICATE.setRelease(mapped, 40L, ((long) checksum << 32) | (certificateLength & 0xFFFF_FFFFL));
    }

    void markClosed() {
        CLOSED.setRelease(mapped, 48L, (byte) 1);
    }

    /** The held bytes [0, length) (a view: valid while this file is open). */
    MemorySegment data() {
        return mapped.asSlice(HEADER_BYTES, length());
    }

    /** Checks the certified prefix: every entry well formed, checksummed, and the certificate matching. */
    ValidationResult verify() {
        SegmentCertificate certificate = certificate();
        if (certificate.lengthBytes() > length()) {
            return new ValidationResult.Corrupt(new io.ferrite.log.Corruption(segmentId(), length(),
                    "certificate covers " + certificate.lengthBytes() + " bytes, the replica holds " + length()));
        }
        if (certificate.lengthBytes() == 0) {
            return new ValidationResult.Valid(0);
        }
        MemorySegment certified = mapped.asSlice(HEADER_BYTES, certificate.lengthBytes());
        return SegmentIterator.validate(SegmentMemory.contiguous(certified), segmentId(), certificate);
    }

    /** Forces a written file to disk ({@code fsync}); a seam for tests that make it fail. */
    @FunctionalInterface
    interface Syncer {
        void force(FileChannel channel) throws IOException;
    }

    /**
     * Allocates the blocks of an existing buffer (one reloaded at start, written by an older
     * version as a sparse file) so that appends into it cannot fault.
     *
     * @throws StorageException if its file system cannot hold it
     */
    void allocate() throws StorageException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
            FileSpace.allocate(path, channel, mapped.byteSize());
        } catch (StorageException e) {
            throw e;
        } catch (IOException e) {
            throw StorageException.of(StorageException.Op.ALLOCATE, path + ": cannot open to allocate", e);
        }
    }

    /**
     * Writes header and held bytes to {@code target} (through a temporary file) and forces them
     * to disk. On failure the temporary file is removed and nothing is at {@code target}.
     *
     * @throws StorageException if the write or the {@code fsync} failed (full or failing disk)
     */
    void writeTo(Path target, Syncer syncer) throws StorageException {
        Path temporary = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer bytes = mapped.asSlice(0, HEADER_BYTES + (long) length()).asByteBuffer();
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            try {
                syncer.force(out);
            } catch (IOException e) {
                throw new FsyncException(e);
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temporary);
            } catch (IOException ignored) {
                // The directory failed too; the next attempt truncates the file anyway.
            }
            if (e instanceof FsyncException f) {
                throw StorageException.of(StorageException.Op.FSYNC, temporary + ": fsync failed", (IOException) f.getCause());
            }
            throw StorageException.of(StorageException.Op.WRITE, "cannot write " + temporary, e);
        }
        try {
            moveInto(temporary, target);
        } catch (IOException e) {
            throw StorageException.of(StorageException.Op.WRITE, "cannot rename " + temporary + " to " + target, e);
        }
    }

    /** Marks an fsync failure inside {@link #writeTo} (its message says "fsync"). */
    private static final class FsyncException extends IOException {
        private static final long serialVersionUID = 1L;

        FsyncException(IOException cause) {
            super(cause);
        }
    }

    private static void moveInto(Path temporary, Path target) throws IOException {
        Files.move(temporary, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel directory = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
            directory.force(true);
        } catch (IOException e) {
            // Some file systems cannot sync a directory; the file itself is on disk.
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
