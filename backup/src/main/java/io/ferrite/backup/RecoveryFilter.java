package io.ferrite.backup;

import io.ferrite.log.EntryType;
import io.ferrite.log.KeyRanges;
import io.ferrite.log.ObjectFlyweight;
import io.ferrite.log.SegmentCertificate;
import io.ferrite.log.SegmentIterator;
import io.ferrite.log.SegmentMemory;
import io.ferrite.log.TombstoneFlyweight;
import io.ferrite.proto.KeyHash;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;

/**
 * Cuts out of one replica the entries a recovery partition needs: the objects and tombstones
 * whose (table, key hash) lie in its ranges, each copied whole (framing and checksum included)
 * so the recovery master checks them again. The replica is verified against its certificate as
 * it is walked; nothing past the certified prefix is looked at.
 */
public final class RecoveryFilter {
    /** The entries kept, and how many the replica held. */
    public record Result(byte[] entries, int scanned, int kept) {
    }

    private final SegmentIterator iterator = new SegmentIterator(true);
    private final byte[] key = new byte[ObjectFlyweight.MAX_KEY_BYTES];

    /**
     * @throws CorruptReplicaException if the certified prefix does not verify
     */
    public Result filter(long masterId, long segmentId, SegmentCertificate certificate, byte[] replica,
                         KeyRanges ranges) {
        SegmentMemory memory = SegmentMemory.contiguous(MemorySegment.ofArray(replica));
        iterator.reset(memory, segmentId, certificate);
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(1024, replica.length / 4));
        int scanned = 0;
        int kept = 0;
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
            if (ranges.contains(tableId, KeyHash.hash(key, 0, keyLength))) {
                out.write(replica, (int) iterator.entryOffset(), iterator.framedLength());
                kept++;
            }
        }
        if (step == SegmentIterator.CORRUPT) {
            throw new CorruptReplicaException("replica " + segmentId + " of master " + masterId
                    + " does not verify: " + iterator.corruption());
        }
        return new Result(out.toByteArray(), scanned, kept);
    }
}
