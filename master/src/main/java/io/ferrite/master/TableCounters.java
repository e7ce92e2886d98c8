package io.ferrite.master;

/**
 * Live bytes (framed entry bytes) and objects of one table on this master. Updated by the
 * writer under the log's append lock; read racily by statistics.
 */
public final class TableCounters {
    private final long tableId;
    volatile long bytes;
    volatile long objects;

    TableCounters(long tableId) {
        this.tableId = tableId;
    }

    public long tableId() {
        return tableId;
    }

    public long bytes() {
        return bytes;
    }

    public long objects() {
        return objects;
    }
}
