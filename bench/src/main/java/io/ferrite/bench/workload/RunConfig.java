package io.ferrite.bench.workload;

import io.ferrite.master.EngineContext;

/**
 * Settings shared by every run of the engine benchmark.
 *
 * @param memoryBytes        engine memory (seglet pool) of each run
 * @param segmentSizeBytes   log segment size
 * @param cleanerThreads     cleaner threads of each engine
 * @param writtenMultiple    a run stops when its writes total this many times the memory in key plus value bytes
 * @param seed               seed the runs' random choices derive from
 * @param stallTimeoutNs     a run gives up (completed = false) when one operation keeps getting RETRY this long
 * @param verifySamples      live keys read back after each run
 */
public record RunConfig(long memoryBytes, int segmentSizeBytes, int cleanerThreads, double writtenMultiple,
                        long seed, long stallTimeoutNs, int verifySamples) {

    /** The engine configuration of one run (a fresh, concluded context). */
    public EngineContext engineContext() {
        return new EngineContext()
                .memoryBytes(memoryBytes)
                .segmentSizeBytes(segmentSizeBytes)
                .cleanerThreads(cleanerThreads)
                .conclude();
    }

    /** The seed of one (workload, live share) run, so each run replays on its own. */
    public long runSeed(Workload workload, double liveShare) {
        long h = seed ^ (workload.ordinal() + 1L) * 0x9E3779B97F4A7C15L
                ^ Double.doubleToLongBits(liveShare) * 0xC2B2AE3D27D4EB4FL;
        return h ^ (h >>> 31);
    }
}
