package io.ferrite.log;

/** The kinds of entry a segment holds; the code is stored in the low six bits of the entry header. */
public enum EntryType {
    /** First entry of every segment: log id, segment id, capacity. */
    SEGMENT_HEADER(1),
    /** A key-value object with its table, version and write timestamp. */
    OBJECT(2),
    /** Marks an object version dead; names the segment that held it. */
    TOMBSTONE(3),
    /** Ids of all segments of the log at the time the segment was opened. */
    LOG_DIGEST(4),
    /** A version no object of this master has reached yet. */
    SAFE_VERSION(5),
    /** Live bytes and objects per table, for recovery partitioning. */
    TABLE_STATS(6);

    private static final EntryType[] BY_CODE = new EntryType[64];

    static {
        for (EntryType type : values()) {
            BY_CODE[type.code] = type;
        }
    }

    private final int code;

    EntryType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The type stored under {@code code}, or {@code null} when the code is unknown. */
    public static EntryType fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
