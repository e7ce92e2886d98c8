package io.ferrite.log;

/**
 * Where and how a segment failed validation.
 *
 * @param segmentId id of the segment (as the caller knows it)
 * @param offset    byte offset of the entry, or of the problem, within the segment
 * @param reason    what was wrong, for logs and operators
 */
public record Corruption(long segmentId, long offset, String reason) {
    @Override
    public String toString() {
        return "segment " + segmentId + " offset " + offset + ": " + reason;
    }
}
