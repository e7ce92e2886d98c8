package io.ferrite.master.memory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A fixed pool of {@link #SEGLET_SIZE_BYTES} seglets carved from one off-heap region,
 * allocated with the FFM API. A seglet is named by its index; index {@code i} covers bytes
 * {@code [i * 64 KiB, (i + 1) * 64 KiB)} of the region.
 *
 * <p>Allocation takes a floor: a caller only gets a seglet while more than {@code floor}
 * remain free, so the log head cannot eat the seglets the cleaner needs to make progress.
 * Thread-safe (a short monitor per 64 KiB; never on the per-object path).
 */
public final class SegletPool implements AutoCloseable {
    public static final int SEGLET_SIZE_BYTES = 64 * 1024;
    public static final int SEGLET_SHIFT = 16;
    /** Name of the region file of the {@code pmem} backend inside its directory. */
    public static final String PMEM_FILE_NAME = "seglets.pmem";

    private final MemoryBackend backend;
    private final Arena arena;
    private final MemorySegment region;
    private final MemorySegment[] seglets;
    private final int[] freeStack;
    private final boolean mappedSync;
    private int freeCount;
    private volatile Runnable onFree = () -> { };

    private SegletPool(MemoryBackend backend, Arena arena, MemorySegment region, boolean mappedSync) {
        this.backend = backend;
        this.arena = arena;
        this.region = region;
        this.mappedSync = mappedSync;
        int count = (int) (region.byteSize() / SEGLET_SIZE_BYTES);
        this.seglets = new MemorySegment[count];
        this.freeStack = new int[count];
        for (int i = 0; i < count; i++) {
            seglets[i] = region.asSlice((long) i * SEGLET_SIZE_BYTES, SEGLET_SIZE_BYTES);
        }
        for (int i = 0; i < count; i++) {
            freeStack[i] = count - 1 - i; // low indices handed out first
        }
        freeCount = count;
    }

    /** A pool of anonymous off-heap memory of {@code sizeBytes} (rounded down to whole seglets). */
    public static SegletPool dram(long sizeBytes) {
        long bytes = checkedSize(sizeBytes);
        Arena arena = Arena.ofShared();
        MemorySegment region = HugePages.allocate(arena, bytes);
        return new SegletPool(MemoryBackend.DRAM, arena, region, false);
    }

    /**
     * A pool mapped from {@code directory/seglets.pmem}, created at {@code sizeBytes} if absent,
     * reopened as is otherwise (a file of another size is an error). Uses {@code MAP_SYNC} when
     * the file system supports it.
     */
    public static SegletPool pmem(Path directory, long sizeBytes) {
        long bytes = checkedSize(sizeBytes);
        try {
            Files.createDirectories(directory);
            Path file = directory.resolve(PMEM_FILE_NAME);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE)) {
                long existing = channel.size();
                if (existing != 0 && existing != bytes) {
                    throw new IllegalArgumentException("pmem file " + file + " has " + existing
                            + " bytes but the configured memory is " + bytes + " bytes");
                }
                if (existing == 0) {
                    channel.truncate(bytes);
                    channel.position(bytes - 1).write(java.nio.ByteBuffer.wrap(new byte[1]));
                }
                Arena arena = Arena.ofShared();
                MemorySegment region;
                boolean sync;
                try {
                    region = channel.map(jdk.nio.mapmode.ExtendedMapMode.READ_WRITE_SYNC, 0, bytes, arena);
                    sync = true;
                } catch (UnsupportedOperationException | IOException notDax) {
                    region = channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
                    sync = false;
                }
                return new SegletPool(MemoryBackend.PMEM, arena, region, sync);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map pmem file in " + directory, e);
        }
    }

    private static long checkedSize(long sizeBytes) {
        long bytes = sizeBytes - sizeBytes % SEGLET_SIZE_BYTES;
        if (bytes < 4L * SEGLET_SIZE_BYTES) {
            throw new IllegalArgumentException("memory of " + sizeBytes + " bytes is below the minimum of "
                    + 4 * SEGLET_SIZE_BYTES);
        }
        if (bytes / SEGLET_SIZE_BYTES > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("memory of " + sizeBytes + " bytes is too large");
        }
        return bytes;
    }

    public MemoryBackend backend() {
        return backend;
    }

    /** True when the pmem mapping uses {@code MAP_SYNC} (a DAX file system). */
    public boolean mappedSync() {
        return mappedSync;
    }

    /** Runs after every {@link #free}, outside the pool's monitor (the log wakes waiting writers). */
    public void onFree(Runnable action) {
        this.onFree = action;
    }

    /** @return a seglet index, or -1 when no more than {@code floor} seglets are free */
    public synchronized int allocate(int floor) {
        if (freeCount <= floor) {
            return -1;
        }
        return freeStack[--freeCount];
    }

    public void free(int index) {
        synchronized (this) {
            freeStack[freeCount++] = index;
        }
        onFree.run();
    }

    /**
     * The whole region: a log reference ({@code seglet << 16 | offset}) is an offset into it,
     * so an entry that lies within one seglet can be read here without finding its segment.
     */
    public MemorySegment region() {
        return region;
    }

    /** Every seglet in index order (a copy of the array; the seglets themselves are shared). */
    public MemorySegment[] allSeglets() {
        return seglets.clone();
    }

    public MemorySegment seglet(int index) {
        return seglets[index];
    }

    public int totalSeglets() {
        return seglets.length;
    }

    public synchronized int freeSeglets() {
        return freeCount;
    }

    public long sizeBytes() {
        return region.byteSize();
    }

    /** Forces a pmem mapping's dirty pages to its file (no-op for DRAM). */
    public void force() {
        if (backend == MemoryBackend.PMEM) {
            region.force();
        }
    }

    @Override
    public void close() {
        force();
        arena.close();
    }
}
