package io.ferrite.backup;

import io.ferrite.log.EntryType;
import io.ferrite.log.KeyRanges;
import io.ferrite.log.ObjectFlyweight;
import io.ferrite.log.SegmentCertificate;
import io.ferrite.log.SegmentIterator;
import io.ferrite.log.SegmentMemory;
import io.ferrite.log.TombstoneFlyweight;
import io.ferrite.proto.KeyHash;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Cuts one replica into the entries each recovery partition needs, in one walk: the objects
 * and tombstones whose (table, key hash) lie in a partition's ranges, each copied whole
 * (framing and checksum included) so the recovery master checks them again. The replica is
 * verified against its certificate as it is walked; nothing past the certified prefix is looked
 * at. One instance per thread.
 */
public final class RecoveryFilter {
    /**
     * One partition's entries: the first {@code length} bytes of {@code entries}; {@code kept}
     * entries of the {@code scanned} the replica held.
     */
    public record Part(byte[] entries, int length, int kept, int scanned) {
    }

    /** Every partition's part, in the order the partitions were given. */
    public record Cut(Map<KeyRanges, Part> parts) {
    }

    private final SegmentIterator iterator = new SegmentIterator(true);
    private final byte[] key = new byte[ObjectFlyweight.MAX_KEY_BYTES];

    /**
     * @param partitions distinct partitions; an entry goes to the first whose ranges hold it
     * @throws CorruptReplicaException if the certified prefix does not verify
     */
    public Cut cut(long masterId, long segmentId, SegmentCertificate certificate, byte[] replica,
                   List<KeyRanges> partitions) {
        SegmentMemory memory = SegmentMemory.contiguous(MemorySegment.ofArray(replica));
        iterator.reset(memory, segmentId, certificate);
        int n = partitions.size();
        Output[] outputs = new Output[n];
        for (int i = 0; i < n; i++) {
            outputs[i] = new Output(Math.max(1024, replica.length / n + replica.length / 16));
        }
        int scanned = 0;
        int step;
        while ((step = iterator.next()) == SegmentIterator.ENTRY) {
            scanned++;
            EntryType type = iterator.type();
            long tableId;
            long keyOffset;
            int keyLength;
            if (type == EntryType.OBJECT) {
                ObjectFlyweight object = iterator.object();
                tableId = object.tableId();
                keyOffset = object.keyOffset();
                keyLength = object.keyLength();
            } else if (type == EntryType.TOMBSTONE) {
                TombstoneFlyweight tombstone = iterator.tombstone();
                tableId = tombstone.tableId();
                keyOffset = tombstone.keyOffset();
                keyLength = tombstone.keyLength();
            } else {
                continue;
            }
            memory.copyTo(keyOffset, key, 0, keyLength);
            long hash = KeyHash.hash(key, 0, keyLength);
            for (int i = 0; i < n; i++) {
                if (partitions.get(i).contains(tableId, hash)) {
                    outputs[i].write(replica, (int) iterator.entryOffset(), iterator.framedLength());
                    break;
                }
            }
        }
        if (step == SegmentIterator.CORRUPT) {
            throw new CorruptReplicaException("replica " + segmentId + " of master " + masterId
                    + " does not verify: " + iterator.corruption());
        }
        Map<KeyRanges, Part> parts = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            parts.put(partitions.get(i), new Part(outputs[i].bytes, outputs[i].length, outputs[i].entries, scanned));
        }
        return new Cut(parts);
    }

    /** A growable byte array handed out as is (no copy at the end). */
    private static final class Output {
        byte[] bytes;
        int length;
        int entries;

        Output(int capacity) {
            bytes = new byte[capacity];
        }

        void write(byte[] from, int offset, int count) {
            if (length + count > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(length + count, bytes.length * 2));
            }
            System.arraycopy(from, offset, bytes, length, count);
            length += count;
            entries++;
        }
    }
}
