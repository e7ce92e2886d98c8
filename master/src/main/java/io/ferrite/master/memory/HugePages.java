package io.ferrite.master.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Asks Linux to back large off-heap regions with transparent huge pages
 * ({@code madvise(MADV_HUGEPAGE)}), through an FFM downcall. Random reads over a gigabyte of
 * seglets or hash buckets otherwise miss the TLB on nearly every access. Where the call is not
 * available (another OS, native access not enabled) this does nothing.
 */
public final class HugePages {
    /** Alignment that lets the kernel use 2 MiB pages for a region. */
    public static final long ALIGNMENT_BYTES = 2L << 20;
    private static final int MADV_HUGEPAGE = 14;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final MethodHandle MADVISE = lookup("madvise",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    private static final MethodHandle MMAP = lookup("mmap",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle MUNMAP = lookup("munmap",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));

    private HugePages() {
    }

    @SuppressWarnings("restricted") // libc calls that only map, unmap and advise memory this class owns
    private static MethodHandle lookup(String name, FunctionDescriptor descriptor) {
        try {
            if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
                return null;
            }
            Linker linker = Linker.nativeLinker();
            Optional<MemorySegment> symbol = linker.defaultLookup().find(name);
            return symbol.isEmpty() ? null : linker.downcallHandle(symbol.get(), descriptor);
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }

    /**
     * Anonymous zeroed memory of {@code bytes}, 2 MiB aligned, advised for huge pages before it
     * is first touched (so the kernel can back it with 2 MiB pages at fault time), and unmapped
     * when {@code arena} closes. Falls back to {@code arena.allocate} where mmap is unavailable.
     */
    @SuppressWarnings("restricted") // reinterpret sizes the mapping we just created
    public static MemorySegment allocate(Arena arena, long bytes) {
        if (MMAP == null || MUNMAP == null || bytes < ALIGNMENT_BYTES) {
            return arena.allocate(bytes, 4096);
        }
        long mapped = bytes + ALIGNMENT_BYTES;
        MemorySegment base;
        try {
            base = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, mapped, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS,
                    -1, 0L);
        } catch (Throwable e) {
            return arena.allocate(bytes, ALIGNMENT_BYTES);
        }
        if (base.address() == -1L || base.address() == 0) {
            throw new OutOfMemoryError("mmap of " + mapped + " bytes failed");
        }
        long start = (base.address() + ALIGNMENT_BYTES - 1) & -ALIGNMENT_BYTES;
        long baseAddress = base.address();
        MemorySegment region = MemorySegment.ofAddress(start).reinterpret(bytes, arena, ignored -> unmap(baseAddress, mapped));
        advise(region);
        return region;
    }

    private static void unmap(long address, long bytes) {
        try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), bytes);
        } catch (Throwable e) {
            throw new IllegalStateException("munmap failed", e);
        }
    }

    /**
     * Advises huge pages for {@code region} (its start should be 2 MiB aligned).
     *
     * @return true if the kernel accepted the advice
     */
    public static boolean advise(MemorySegment region) {
        if (MADVISE == null || region.byteSize() < ALIGNMENT_BYTES) {
            return false;
        }
        try {
            return (int) MADVISE.invokeExact(region, region.byteSize(), MADV_HUGEPAGE) == 0;
        } catch (Throwable e) {
            return false;
        }
    }
}
