package io.ferrite.master.recovery;

import io.ferrite.log.EntryType;
import io.ferrite.log.KeyRanges;
import io.ferrite.log.ObjectFlyweight;
import io.ferrite.log.SegmentIterator;
import io.ferrite.log.SegmentMemory;
import io.ferrite.log.TombstoneFlyweight;
import io.ferrite.master.ObjectManager;
import io.ferrite.proto.KeyHash;
import io.ferrite.master.Status;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Replays the entries of one partition, segment after segment in any order, into this
 * master's log. The rule makes the order irrelevant: an object wins only with a higher version
 * than what is here, a tombstone removes what is here at an equal or lower version, and a
 * tombstone that found nothing is remembered so that an older object arriving later (from
 * another segment) is not brought back. One instance per partition, used by one thread.
 */
public final class PartitionReplay {
    /** Replayed bytes after which replication is told how far the head is written. */
    static final int SYNC_EVERY_BYTES = 256 << 10;
    /** How long a replay waits for the cleaner to free memory before giving the partition up. */
    static final long NO_MEMORY_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    /** The partition needs more memory than this master can free. */
    public static final class NoRoomException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NoRoomException(String message) {
            super(message);
        }
    }

    /** Entries a backup sent failed verification. */
    public static final class BadEntriesException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadEntriesException(String message) {
            super(message);
        }
    }

    private final ObjectManager engine;
    private final KeyRanges ranges;
    private final SegmentIterator iterator = new SegmentIterator(true);
    private final byte[] key = new byte[ObjectFlyweight.MAX_KEY_BYTES];
    /** Newest removed version per (table, key) of tombstones that found nothing to remove. */
    private final Map<TableKey, Long> removed = new HashMap<>();
    private long objects;
    private long objectsKept;
    private long tombstones;
    private long bytes;
    private long highestVersion;
    private long fetchWaitNanos;
    private long replayNanos;
    private long unsyncedBytes;

    public PartitionReplay(ObjectManager engine, KeyRanges ranges) {
        this.engine = engine;
        this.ranges = ranges;
    }

    private record TableKey(long tableId, byte[] key) {
        @Override
        public boolean equals(Object o) {
            return o instanceof TableKey k && k.tableId == tableId && Arrays.equals(k.key, key);
        }

        @Override
        public int hashCode() {
            return 31 * Long.hashCode(tableId) + Arrays.hashCode(key);
        }
    }

    /**
     * Replays one run of framed entries (as {@code ReadRecoveryData} answers).
     *
     * @throws BadEntriesException if an entry does not verify
     * @throws NoRoomException     if memory stays full
     */
    public void replay(long segmentId, ByteBuffer entries) throws InterruptedException {
        SegmentMemory memory = SegmentMemory.contiguous(MemorySegment.ofBuffer(entries));
        iterator.resetEntries(memory, entries.remaining());
        int step;
        while ((step = iterator.next()) == SegmentIterator.ENTRY) {
            bytes += iterator.framedLength();
            unsyncedBytes += iterator.framedLength();
            if (unsyncedBytes >= SYNC_EVERY_BYTES) {
                unsyncedBytes = 0;
                engine.syncReplication();
            }
            if (iterator.type() == EntryType.OBJECT) {
                replayObject(memory, iterator.object());
            } else if (iterator.type() == EntryType.TOMBSTONE) {
                replayTombstone(memory, iterator.tombstone());
            }
        }
        engine.syncReplication();
        unsyncedBytes = 0;
        if (step == SegmentIterator.CORRUPT) {
            throw new BadEntriesException("entries of segment " + segmentId + " do not verify: "
                    + iterator.corruption());
        }
    }

    private void replayObject(SegmentMemory memory, ObjectFlyweight object) throws InterruptedException {
        objects++;
        int keyLength = object.keyLength();
        memory.copyTo(object.keyOffset(), key, 0, keyLength);
        long tableId = object.tableId();
        long version = object.version();
        highestVersion = Math.max(highestVersion, version);
        if (!ranges.contains(tableId, KeyHash.hash(key, 0, keyLength))) {
            return;
        }
        if (!removed.isEmpty()) {
            Long removedAt = removed.get(new TableKey(tableId, Arrays.copyOf(key, keyLength)));
            if (removedAt != null && removedAt >= version) {
                return;
            }
        }
        long deadline = 0;
        while (true) {
            Status status = engine.replayObject(memory, iterator.entryOffset(), iterator.framedLength(), tableId, key,
                    keyLength, version, keyLength + object.valueLength());
            if (status == Status.OK) {
                objectsKept++;
                return;
            }
            if (status != Status.RETRY) {
                return;
            }
            deadline = awaitMemory(deadline);
        }
    }

    private void replayTombstone(SegmentMemory memory, TombstoneFlyweight tombstone) throws InterruptedException {
        tombstones++;
        int keyLength = tombstone.keyLength();
        memory.copyTo(tombstone.keyOffset(), key, 0, keyLength);
        long tableId = tombstone.tableId();
        long version = tombstone.objectVersion();
        highestVersion = Math.max(highestVersion, version);
        if (!ranges.contains(tableId, KeyHash.hash(key, 0, keyLength))) {
            return;
        }
        long deadline = 0;
        while (engine.replayTombstone(tableId, key, keyLength, version) == Status.RETRY) {
            deadline = awaitMemory(deadline);
        }
        // Remembered whether or not it removed something: an older copy may still arrive.
        removed.merge(new TableKey(tableId, Arrays.copyOf(key, keyLength)), version, Math::max);
    }

    private long awaitMemory(long deadline) throws InterruptedException {
        long now = System.nanoTime();
        if (deadline == 0) {
            deadline = now + NO_MEMORY_TIMEOUT_NS;
        } else if (now - deadline > 0) {
            throw new NoRoomException("memory stayed full for " + TimeUnit.NANOSECONDS.toSeconds(NO_MEMORY_TIMEOUT_NS)
                    + " s while replaying");
        }
        engine.awaitFreeMemory(TimeUnit.MILLISECONDS.toNanos(100));
        return deadline;
    }

    /** Objects and tombstones seen, objects that won, entry bytes replayed, the highest version seen. */
    public long objects() {
        return objects;
    }

    public long objectsKept() {
        return objectsKept;
    }

    public long tombstones() {
        return tombstones;
    }

    public long bytes() {
        return bytes;
    }

    public long highestVersion() {
        return highestVersion;
    }

    /** Adds time spent waiting for a fetch and replaying what it brought (figures for the log). */
    void timed(long fetchWait, long replaying) {
        fetchWaitNanos += fetchWait;
        replayNanos += replaying;
    }

    public long fetchWaitNanos() {
        return fetchWaitNanos;
    }

    public long replayNanos() {
        return replayNanos;
    }
}
