package io.ferrite.bench.compare;

import java.util.List;
import java.util.Map;

/**
 * One system under comparison, running as real processes this benchmark started (Redis, a
 * Hazelcast cluster, a Ferrite cluster). The YCSB client reaches it through {@link #ycsbBinding()}
 * with {@link #ycsbProperties()}; the comparison pins {@link #processes()} onto the server cores.
 */
public interface PeerSystem extends AutoCloseable {
    /** The system's name in the rows, e.g. {@code redis-always}, {@code hazelcast}, {@code ferrite-r2}. */
    String name();

    /** Version and settings, one line, for the report (e.g. "Redis 7.0.15, appendonly yes, appendfsync always"). */
    String description();

    /** The class name of the {@code site.ycsb.DB} binding the YCSB client loads. */
    String ycsbBinding();

    /** The properties the binding needs to connect (addresses, cluster name), passed with {@code -p}. */
    Map<String, String> ycsbProperties();

    /** Every server process of the system (pinned to the server cores; their RSS is summed). */
    List<ProcessHandle> processes();

    /** Removes every record of the YCSB table, so the next load starts from empty. */
    void clear() throws Exception;

    /**
     * Memory figures after a load, as metric name to bytes for the whole system, e.g.
     * {@code rss} (summed resident set of {@link #processes()}) and the system's own account of
     * the data it holds ({@code used_memory}, heap used after a GC, log + index bytes).
     */
    Map<String, Long> memory() throws Exception;

    /** Stops every process of the system (waiting for each to exit) and deletes its files. */
    @Override
    void close() throws java.io.IOException;
}
