package io.ferrite.log;

import java.util.zip.CRC32C;

/**
 * Walks the entries of a segment, validating as it goes, and stops at the end of the prefix a
 * certificate covers. Nothing it reads can make it throw, loop or read out of bounds: every
 * length is checked against the certified end before it is used, and any problem ends the walk
 * with {@link #CORRUPT} and a {@link Corruption} naming the segment and offset.
 *
 * <p>Usage: {@code reset(...)}, then call {@link #next()} until it returns something other
 * than {@link #ENTRY}. One iterator per thread; re-usable; allocates only on corruption.
 */
public final class SegmentIterator {
    /** The iterator stands on a valid entry. */
    public static final int ENTRY = 1;
    /** The certified prefix ended cleanly (and its checksum matched, when a certificate was given). */
    public static final int END = 0;
    /** A problem was found; see {@link #corruption()}. */
    public static final int CORRUPT = -1;

    private final boolean verifyChecksums;
    private final CRC32C certificateCrc = new CRC32C();
    private final CRC32C entryCrc = new CRC32C();
    private final byte[] frame = new byte[5];
    private final ObjectFlyweight object = new ObjectFlyweight();
    private final TombstoneFlyweight tombstone = new TombstoneFlyweight();

    private SegmentMemory memory;
    private long segmentId;
    private long limit;
    private boolean checkCertificate;
    /** Entries only (a recovery stream): no segment header at the start, none allowed anywhere. */
    private boolean headerless;
    private int expectedChecksum;
    private long position;
    private Corruption corruption;
    private boolean finished;

    private EntryType type;
    private long entryOffset;
    private long payloadOffset;
    private int payloadLength;
    private int framedLength;

    /** @param verifyChecksums check each entry's CRC32C (off only for memory the caller trusts) */
    public SegmentIterator(boolean verifyChecksums) {
        this.verifyChecksums = verifyChecksums;
    }

    public SegmentIterator() {
        this(true);
    }

    /** Iterates a replica or segment up to what {@code certificate} covers, checking everything. */
    public SegmentIterator reset(SegmentMemory memory, long segmentId, SegmentCertificate certificate) {
        start(memory, segmentId, certificate.lengthBytes());
        this.checkCertificate = true;
        this.expectedChecksum = certificate.checksum();
        if (certificate.lengthBytes() > memory.capacity()) {
            fail(memory.capacity(), "truncated: certificate covers " + certificate.lengthBytes()
                    + " bytes but only " + memory.capacity() + " are present");
        }
        return this;
    }

    /** Iterates the first {@code lengthBytes} of a segment whose writer is known (no certificate). */
    public SegmentIterator resetTrusted(SegmentMemory memory, long segmentId, long lengthBytes) {
        start(memory, segmentId, lengthBytes);
        this.checkCertificate = false;
        if (lengthBytes > memory.capacity()) {
            fail(memory.capacity(), "truncated: " + lengthBytes + " bytes expected but only "
                    + memory.capacity() + " are present");
        }
        return this;
    }

    /**
     * Iterates a run of whole framed entries cut out of segments (what a backup sends recovery):
     * every entry is checked as in a segment, but none may be a segment header.
     */
    public SegmentIterator resetEntries(SegmentMemory memory, long lengthBytes) {
        resetTrusted(memory, -1, lengthBytes);
        this.headerless = true;
        return this;
    }

    private void start(SegmentMemory memory, long segmentId, long limit) {
        this.headerless = false;
        this.memory = memory;
        this.segmentId = segmentId;
        this.limit = limit;
        this.position = 0;
        this.corruption = null;
        this.finished = false;
        this.type = null;
        this.certificateCrc.reset();
    }

    private int fail(long offset, String reason) {
        corruption = new Corruption(segmentId, offset, reason);
        type = null;
        return CORRUPT;
    }

    /** Advances to the next entry: {@link #ENTRY}, {@link #END} or {@link #CORRUPT}. */
    public int next() {
        if (corruption != null) {
            return CORRUPT;
        }
        if (finished) {
            return END;
        }
        if (position == limit) {
            finished = true;
            type = null;
            if (checkCertificate && (int) certificateCrc.getValue() != expectedChecksum) {
                finished = false;
                return fail(limit, "certificate checksum mismatch over " + limit + " bytes");
            }
            return END;
        }
        long at = position;
        byte header = memory.getByte(at);
        EntryType entryType = EntryType.fromCode(EntryDescriptor.typeCode(header));
        if (entryType == null) {
            return fail(at, "unknown entry type " + EntryDescriptor.typeCode(header));
        }
        if (headerless) {
            if (entryType == EntryType.SEGMENT_HEADER) {
                return fail(at, "segment header in a run of entries");
            }
        } else if ((at == 0) != (entryType == EntryType.SEGMENT_HEADER)) {
            return fail(at, at == 0 ? "segment does not begin with a header (found " + entryType + ")"
                    : "segment header in the middle of the segment");
        }
        int width = EntryDescriptor.lengthWidthOf(header);
        if (at + 1 + width > limit) {
            return fail(at, "length field runs past the end (" + limit + ")");
        }
        long content = memory.getUnsigned(at + 1, width);
        if (content < EntryDescriptor.CRC_BYTES || content > EntryDescriptor.MAX_CONTENT_BYTES
                || at + 1 + width + content > limit) {
            return fail(at, "entry length " + content + " is impossible or runs past the end (" + limit + ")");
        }
        frame[0] = header;
        for (int i = 0; i < width; i++) {
            frame[1 + i] = memory.getByte(at + 1 + i);
        }
        certificateCrc.update(frame, 0, 1 + width);
        long payloadAt = at + 1 + width + EntryDescriptor.CRC_BYTES;
        int payloadBytes = (int) (content - EntryDescriptor.CRC_BYTES);
        if (verifyChecksums) {
            entryCrc.reset();
            entryCrc.update(frame, 0, 1 + width);
            memory.updateCrc(entryCrc, payloadAt, payloadBytes);
            int stored = memory.getInt(at + 1 + width);
            if ((int) entryCrc.getValue() != stored) {
                return fail(at, entryType + " checksum mismatch");
            }
        }
        boolean wellFormed = switch (entryType) {
            case OBJECT -> object.wrap(memory, payloadAt, payloadBytes);
            case TOMBSTONE -> tombstone.wrap(memory, payloadAt, payloadBytes);
            default -> MetadataDescriptors.wellFormed(entryType, memory, payloadAt, payloadBytes);
        };
        if (!wellFormed) {
            return fail(at, "malformed " + entryType + " payload of " + payloadBytes + " bytes");
        }
        if (entryType == EntryType.SEGMENT_HEADER) {
            long named = memory.getLong(payloadAt + MetadataDescriptors.HEADER_SEGMENT_ID_OFFSET);
            if (named != segmentId) {
                return fail(at, "header names segment " + named + ", not " + segmentId);
            }
        }
        type = entryType;
        entryOffset = at;
        payloadOffset = payloadAt;
        payloadLength = payloadBytes;
        framedLength = (int) (1 + width + content);
        position = at + framedLength;
        return ENTRY;
    }

    public EntryType type() {
        return type;
    }

    public long entryOffset() {
        return entryOffset;
    }

    public long payloadOffset() {
        return payloadOffset;
    }

    public int payloadLength() {
        return payloadLength;
    }

    public int framedLength() {
        return framedLength;
    }

    /** The current entry as an object; valid only when {@link #type()} is OBJECT. */
    public ObjectFlyweight object() {
        return object;
    }

    /** The current entry as a tombstone; valid only when {@link #type()} is TOMBSTONE. */
    public TombstoneFlyweight tombstone() {
        return tombstone;
    }

    public SegmentMemory memory() {
        return memory;
    }

    /** The problem found, or {@code null}. */
    public Corruption corruption() {
        return corruption;
    }

    /** Walks a whole segment and says whether everything its certificate covers is sound. */
    public static ValidationResult validate(SegmentMemory memory, long segmentId, SegmentCertificate certificate) {
        SegmentIterator iterator = new SegmentIterator(true).reset(memory, segmentId, certificate);
        long entries = 0;
        int step;
        while ((step = iterator.next()) == ENTRY) {
            entries++;
        }
        return step == END ? new ValidationResult.Valid(entries) : new ValidationResult.Corrupt(iterator.corruption());
    }
}
