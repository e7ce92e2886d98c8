package io.ferrite.backup;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Allocates a file's blocks for real before it is memory-mapped, so that a store into the
 * mapping can never meet a hole that a full file system turns into {@code SIGBUS}.
 * {@code posix_fallocate(3)} through the FFM API where the C library has it (Linux: tmpfs,
 * ext4, xfs allocate without writing; glibc writes zeros itself where the file system cannot),
 * else zeros written through the channel. A failure is a {@link StorageException} that says
 * whether the file system is full.
 */
final class FileSpace {
    private static final int O_WRONLY = 1;
    private static final int ENOSPC = 28;
    private static final int EDQUOT = 122;
    private static final Optional<Native> NATIVE = Native.find();

    private FileSpace() {
    }

    /** The C library's {@code open}, {@code posix_fallocate} and {@code close}. */
    private record Native(MethodHandle open, MethodHandle fallocate, MethodHandle close) {
        @SuppressWarnings("restricted") // the launcher and Surefire run with --enable-native-access=ALL-UNNAMED
        static Optional<Native> find() {
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(2));
                MethodHandle fallocate = linker.downcallHandle(libc.find("posix_fallocate").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_LONG));
                MethodHandle close = linker.downcallHandle(libc.find("close").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                return Optional.of(new Native(open, fallocate, close));
            } catch (RuntimeException | LinkageError e) {
                return Optional.empty(); // not a C library we can call: zeros are written instead
            }
        }
    }

    /** Whether {@code posix_fallocate} is used (else zeros are written). */
    static boolean nativeAllocation() {
        return NATIVE.isPresent();
    }

    /**
     * Makes {@code size} bytes of {@code path} (an existing file, open in {@code channel})
     * allocated on its file system.
     *
     * @throws StorageException if the file system is full or fails
     */
    static void allocate(Path path, FileChannel channel, long size) throws StorageException {
        if (NATIVE.isPresent()) {
            int error = fallocate(NATIVE.get(), path, size);
            if (error == 0) {
                return;
            }
            throw new StorageException(StorageException.Op.ALLOCATE, error == ENOSPC || error == EDQUOT ? StorageException.Kind.NO_SPACE
                    : StorageException.Kind.IO, path + ": posix_fallocate of " + size + " bytes failed (errno "
                    + error + ")", null);
        }
        try {
            ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
            for (long at = 0; at < size; ) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), size - at));
                at += channel.write(zeros, at);
            }
        } catch (IOException e) {
            throw StorageException.of(StorageException.Op.ALLOCATE, path + ": cannot allocate " + size + " bytes", e);
        }
    }

    private static int fallocate(Native c, Path path, long size) throws StorageException {
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) c.open().invokeExact(arena.allocateFrom(path.toString()), O_WRONLY, 0);
            if (fd < 0) {
                throw new StorageException(StorageException.Op.ALLOCATE, StorageException.Kind.IO, path + ": cannot open to allocate", null);
            }
            try {
                return (int) c.fallocate().invokeExact(fd, 0L, size);
            } finally {
                int ignored = (int) c.close().invokeExact(fd);
            }
        } catch (StorageException e) {
            throw e;
        } catch (Throwable e) {
            throw new StorageException(StorageException.Op.ALLOCATE, StorageException.Kind.IO, path + ": posix_fallocate failed: " + e, e);
        }
    }

    /** Whether an exception of the JDK's file I/O says the file system is full. */
    static boolean isNoSpace(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String message = t.getMessage();
            if (message != null && (message.contains("No space left") || message.contains("Disk quota exceeded"))) {
                return true;
            }
        }
        return false;
    }
}
