package io.ferrite.bench.workload;

import io.ferrite.log.EntryDescriptor;
import io.ferrite.log.ObjectFlyweight;
import io.ferrite.log.TombstoneFlyweight;
import io.ferrite.master.EngineStats;
import io.ferrite.master.ObjectManager;
import io.ferrite.master.ObjectResult;
import io.ferrite.master.RejectRules;
import io.ferrite.master.Status;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Runs one workload at one live share against a fresh {@link ObjectManager}, on the calling
 * thread:
 *
 * <ol>
 *   <li><b>fill</b>: new keys with "before" sizes until live entry bytes reach {@code U × memory};</li>
 *   <li><b>delete</b>: remove the workload's share of the keys, chosen at random;</li>
 *   <li><b>after-phase</b>: "after"-size values (W1: 100 B again): a new key while live entry
 *       bytes are under {@code U × memory}, else an overwrite of a random key, preceded by the
 *       removal of random keys (as many as it takes) when the overwrite would grow the live
 *       bytes past the target;</li>
 * </ol>
 *
 * until the writes total {@code writtenMultiple × memory} key plus value bytes. Live entry
 * bytes come from {@link EngineStats#liveEntryBytes()} every few operations, with the framed
 * sizes of the operations since added in between. On {@link Status#RETRY} an operation waits
 * for the cleaner and is repeated; if it keeps getting RETRY for the stall timeout the run stops
 * with {@code completed = false}. Afterwards a sample of live keys is read back and checked.
 */
public final class WorkloadRunner {
    /** The one table every key lives in. */
    public static final long TABLE_ID = 1;
    private static final long RETRY_WAIT_NS = TimeUnit.SECONDS.toNanos(1);
    private static final int REFRESH_EVERY_OPS = 32;
    private static final int PROGRESS_CHECK_OPS = 1 << 14;
    private static final long PROGRESS_EVERY_NS = TimeUnit.SECONDS.toNanos(15);
    private static final int REMOVED_SAMPLE = 1000;
    private static final int MAX_PRINTED_MISMATCHES = 10;
    /** A typical segment id, for estimating a tombstone's size (it names a segment). */
    private static final long TYPICAL_SEGMENT_ID = 1 << 13;

    private final Workload workload;
    private final double liveShare;
    private final RunConfig config;
    private final PrintStream log;
    private final SplittableRandom random;
    private final long targetLiveBytes;
    private final long budgetKeyValueBytes;
    private final byte[] key = new byte[KeyCodec.KEY_BYTES];
    private final ObjectResult result = new ObjectResult();
    private final ValueSource values;
    private final LiveKeys live;
    private final RemovedSample removed = new RemovedSample(REMOVED_SAMPLE);
    private ObjectManager manager;

    private long nextKeyId = 1;
    private long liveEstimate;
    private int opsSinceRefresh;
    private long writes;
    private long removes;
    private long retries;
    private long awaitTimeouts;
    private long maxStallNs;
    private long keyValueBytesWritten;
    private boolean stalled;
    private String stalledPhase = "";
    private String phase = "start";
    private long startNs;
    private long lastProgressNs;
    private int opsSinceProgressCheck;

    public WorkloadRunner(Workload workload, double liveShare, RunConfig config, PrintStream log) {
        this.workload = workload;
        this.liveShare = liveShare;
        this.config = config;
        this.log = log;
        this.random = new SplittableRandom(config.runSeed(workload, liveShare));
        this.targetLiveBytes = (long) (liveShare * config.memoryBytes());
        this.budgetKeyValueBytes = (long) (config.writtenMultiple() * config.memoryBytes());
        this.values = new ValueSource(workload.maxValueBytes());
        long smallest = framedObject(workload.before().minBytes(), 1L << 28);
        this.live = new LiveKeys((int) Math.min(Integer.MAX_VALUE - 16, targetLiveBytes / smallest + 1024));
    }

    /**
     * Runs the phases, takes the engine's statistics, then verifies a sample of keys.
     *
     * @throws InterruptedException if interrupted while waiting for the cleaner
     */
    public RunResult run() throws InterruptedException {
        try (ObjectManager engine = new ObjectManager(config.engineContext())) {
            manager = engine;
            startNs = System.nanoTime();
            lastProgressNs = startNs;
            phase = "fill";
            fill();
            long filledNs = System.nanoTime();
            phase = "delete";
            deleteShare();
            long deletedNs = System.nanoTime();
            phase = workload.hasAfterPhase() ? "after-phase" : "overwrite";
            long writesBefore = writes;
            afterPhase();
            long endNs = System.nanoTime();
            EngineStats stats = engine.stats();
            RunResult.Counts counts = new RunResult.Counts(writes, removes, retries, awaitTimeouts, maxStallNs,
                    keyValueBytesWritten, writes - writesBefore, live.size());
            RunResult.Timing timing = new RunResult.Timing(endNs - startNs, filledNs - startNs,
                    deletedNs - filledNs, endNs - deletedNs);
            phase = "verify";
            RunResult.Verification verification = verify();
            String error = stalled ? "an operation got RETRY for more than "
                    + TimeUnit.NANOSECONDS.toSeconds(config.stallTimeoutNs()) + " s in the " + stalledPhase : null;
            return new RunResult(workload, liveShare, config.runSeed(workload, liveShare), config.memoryBytes(),
                    config.writtenMultiple(), !stalled, error, counts, timing, stats, verification);
        } finally {
            manager = null;
        }
    }

    // ---- phases ----

    private void fill() throws InterruptedException {
        SizeRange sizes = workload.before();
        while (!stalled && liveEstimate < targetLiveBytes && keyValueBytesWritten < budgetKeyValueBytes) {
            writeNew(sizes.sample(random));
        }
    }

    private void deleteShare() throws InterruptedException {
        long count = Math.round(workload.deleteShare() * live.size());
        for (long i = 0; i < count && !stalled && live.size() > 0; i++) {
            removeAt(random.nextInt(live.size()));
        }
    }

    private void afterPhase() throws InterruptedException {
        SizeRange sizes = workload.writeSizes();
        while (!stalled && keyValueBytesWritten < budgetKeyValueBytes) {
            int size = sizes.sample(random);
            if (liveEstimate < targetLiveBytes || live.size() == 0) {
                writeNew(size);
                continue;
            }
            int index = random.nextInt(live.size());
            index = makeRoom(index, size);
            if (!stalled) {
                overwrite(index, size);
            }
        }
    }

    /**
     * Before growing the object at {@code index} to {@code size} bytes at the target, removes
     * random other keys until the growth fits under it (one removal when objects grow a little;
     * about a hundred when W8 turns a 100-byte object into a 10 KB one).
     *
     * @return where the object to overwrite is now (a removal may move it)
     */
    private int makeRoom(int index, int size) throws InterruptedException {
        int growth = framedObject(size, result.version()) - framedObject(live.valueBytes(index), result.version());
        while (growth > 0 && liveEstimate + growth > targetLiveBytes && live.size() > 1 && !stalled) {
            int victim = random.nextInt(live.size() - 1);
            if (victim >= index) {
                victim++;
            }
            int last = live.size() - 1;
            if (removeAt(victim) && index == last) {
                index = victim;
            }
        }
        return index;
    }

    // ---- operations ----

    private void writeNew(int size) throws InterruptedException {
        long id = nextKeyId++;
        KeyCodec.encode(id, key);
        if (!put(values.value(id, size))) {
            return;
        }
        live.add(id, size);
        liveEstimate += framedObject(size, result.version());
        afterOperation();
    }

    private void overwrite(int index, int size) throws InterruptedException {
        long id = live.id(index);
        int oldSize = live.valueBytes(index);
        KeyCodec.encode(id, key);
        if (!put(values.value(id, size))) {
            return;
        }
        live.setValueBytes(index, size);
        liveEstimate += framedObject(size, result.version()) - framedObject(oldSize, result.version());
        afterOperation();
    }

    /** Removes the key at {@code index}; false if the run stalled instead. */
    private boolean removeAt(int index) throws InterruptedException {
        long id = live.id(index);
        int oldSize = live.valueBytes(index);
        KeyCodec.encode(id, key);
        long stallStartNs = 0;
        for (;;) {
            Status status = manager.remove(TABLE_ID, key, RejectRules.NONE, result);
            if (status == Status.OK) {
                break;
            }
            if (status != Status.RETRY) {
                throw new IllegalStateException("remove of live key " + new String(key, StandardCharsets.US_ASCII)
                        + " returned " + status);
            }
            long now = System.nanoTime();
            if (stallStartNs == 0) {
                stallStartNs = now;
            }
            if (!awaitAfterRetry(stallStartNs, now)) {
                return false;
            }
        }
        noteStall(stallStartNs);
        removes++;
        removed.offer(id, random);
        live.removeAt(index);
        liveEstimate += framedTombstone(result.version()) - framedObject(oldSize, result.version());
        afterOperation();
        return true;
    }

    /** Writes {@code value} under the current key, retrying on RETRY; false if the run stalled. */
    private boolean put(byte[] value) throws InterruptedException {
        long stallStartNs = 0;
        for (;;) {
            Status status = manager.write(TABLE_ID, key, value, RejectRules.NONE, result);
            if (status == Status.OK) {
                break;
            }
            if (status != Status.RETRY) {
                throw new IllegalStateException("write of " + value.length + " bytes to key "
                        + new String(key, StandardCharsets.US_ASCII) + " returned " + status);
            }
            long now = System.nanoTime();
            if (stallStartNs == 0) {
                stallStartNs = now;
            }
            if (!awaitAfterRetry(stallStartNs, now)) {
                return false;
            }
        }
        noteStall(stallStartNs);
        writes++;
        keyValueBytesWritten += KeyCodec.KEY_BYTES + value.length;
        return true;
    }

    /** Counts a RETRY and waits for the cleaner; false (and the run stalls) past the stall timeout. */
    private boolean awaitAfterRetry(long stallStartNs, long nowNs) throws InterruptedException {
        retries++;
        if (nowNs - stallStartNs >= config.stallTimeoutNs()) {
            stalled = true;
            stalledPhase = phase;
            maxStallNs = Math.max(maxStallNs, nowNs - stallStartNs);
            log.printf(Locale.ROOT, "  %s live %.2f: an operation got RETRY for %.1f s in the %s; giving up this run%n",
                    workload, liveShare, (nowNs - stallStartNs) / 1e9, phase);
            StallReport.print(manager, log);
            return false;
        }
        if (!manager.awaitFreeMemory(RETRY_WAIT_NS)) {
            awaitTimeouts++;
        }
        refreshLive();
        return true;
    }

    private void noteStall(long stallStartNs) {
        if (stallStartNs != 0) {
            maxStallNs = Math.max(maxStallNs, System.nanoTime() - stallStartNs);
        }
    }

    private void afterOperation() {
        if (++opsSinceRefresh >= REFRESH_EVERY_OPS) {
            refreshLive();
        }
        if (++opsSinceProgressCheck >= PROGRESS_CHECK_OPS) {
            opsSinceProgressCheck = 0;
            long now = System.nanoTime();
            if (now - lastProgressNs >= PROGRESS_EVERY_NS) {
                lastProgressNs = now;
                log.printf(Locale.ROOT, "  %s live %.2f: %s, %.0f s, written %.2fx memory, %d keys, %d retries%n",
                        workload, liveShare, phase, (now - startNs) / 1e9,
                        (double) keyValueBytesWritten / config.memoryBytes(), live.size(), retries);
            }
        }
    }

    private void refreshLive() {
        liveEstimate = manager.stats().liveEntryBytes();
        opsSinceRefresh = 0;
    }

    private static int framedObject(int valueBytes, long version) {
        return EntryDescriptor.framedLength(
                ObjectFlyweight.payloadLength(TABLE_ID, version, KeyCodec.KEY_BYTES, valueBytes));
    }

    private static int framedTombstone(long version) {
        return EntryDescriptor.framedLength(
                TombstoneFlyweight.payloadLength(TABLE_ID, version, TYPICAL_SEGMENT_ID, KeyCodec.KEY_BYTES));
    }

    // ---- verification ----

    private RunResult.Verification verify() {
        int samples = Math.min(config.verifySamples(), live.size());
        int mismatches = 0;
        String first = null;
        for (int s = 0; s < samples; s++) {
            int index = random.nextInt(live.size());
            long id = live.id(index);
            KeyCodec.encode(id, key);
            Status status = manager.read(TABLE_ID, key, result);
            String problem = status != Status.OK
                    ? "read returned " + status + ", expected a " + live.valueBytes(index) + "-byte value"
                    : ValueSource.check(id, live.valueBytes(index), result.valueBuffer(), result.valueLength());
            if (problem != null) {
                first = mismatch(++mismatches, first, id, problem);
            }
        }
        for (int s = 0; s < removed.size(); s++) {
            long id = removed.id(s);
            KeyCodec.encode(id, key);
            Status status = manager.read(TABLE_ID, key, result);
            if (status != Status.OBJECT_DOESNT_EXIST) {
                first = mismatch(++mismatches, first, id, "removed key read returned " + status
                        + (status == Status.OK ? " with a " + result.valueLength() + "-byte value" : ""));
            }
        }
        return new RunResult.Verification(samples, removed.size(), mismatches, first);
    }

    private String mismatch(int number, String first, long id, String problem) {
        String text = workload + " live " + liveShare + " key " + new String(KeyCodec.key(id), StandardCharsets.US_ASCII) + ": " + problem;
        if (number <= MAX_PRINTED_MISMATCHES) {
            log.println("  MISMATCH " + text);
        }
        return first == null ? text : first;
    }
}
