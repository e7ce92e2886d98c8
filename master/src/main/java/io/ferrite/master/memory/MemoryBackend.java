package io.ferrite.master.memory;

/** Where a master's seglets live. */
public enum MemoryBackend {
    /** Anonymous off-heap memory; gone when the process exits. */
    DRAM,
    /**
     * A file mapped from a configured directory: a DAX file system mapped with {@code MAP_SYNC}
     * where the platform supports it, any file system otherwise. The bytes outlive the process.
     */
    PMEM
}
