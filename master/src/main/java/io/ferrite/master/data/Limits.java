package io.ferrite.master.data;

import com.google.protobuf.ByteString;

/**
 * The data service's limits (data.proto) and the checks at the edge. Each check returns null
 * when the input is acceptable, else the message for an INVALID_ARGUMENT reply; nothing here
 * throws on bad input.
 */
public final class Limits {
    /** Largest key, in bytes. */
    public static final int MAX_KEY_BYTES = 65_535;
    /** Largest value, in bytes (1 MiB). */
    public static final int MAX_VALUE_BYTES = 1 << 20;
    /** Objects per Enumerate response when the request says 0. */
    public static final int DEFAULT_ENUMERATE_BATCH_OBJECTS = 1_000;
    /** Most objects per Enumerate response, whatever the request says. */
    public static final int MAX_ENUMERATE_BATCH_OBJECTS = 10_000;
    /**
     * Key and value bytes per Enumerate response; a batch stops before the object that would
     * pass it (but always holds at least one object), so a response stays under ~3.1 MiB and
     * fits gRPC's default 4 MiB receive limit of other clients.
     */
    public static final int ENUMERATE_BATCH_BYTES = 2 << 20;
    /**
     * Value bytes per MultiRead response: items past it are answered RETRY (read them in another
     * call), so a small request cannot make the server build a response of gigabytes.
     */
    public static final int MULTI_READ_RESPONSE_BYTES = 16 << 20;

    /**
     * Most items in one MultiRead, MultiWrite or MultiRemove request; a request with more is
     * refused whole with INVALID_ARGUMENT (the Java SDK splits larger groups itself, see
     * {@code ClientOptions.multiOpBatchItems}, which may not exceed this).
     */
    public static final int MAX_MULTI_OP_ITEMS = 4_096;
    /**
     * Answers that may wait for replication in this server at once (all calls and streams): past
     * it, mutations are answered RETRY without running and reads that would have to wait are
     * answered RETRY, until answers drain.
     */
    public static final int MAX_DURABILITY_WAITERS = 4_096;
    /**
     * Answers one Stream may have waiting for replication beyond its window of
     * {@link StreamSession#WINDOW} requests: past it (or past {@link #MAX_AWAITING_BYTES_PER_STREAM})
     * the stream stops pulling requests, so gRPC's flow control pushes back on its client.
     */
    public static final int MAX_AWAITING_PER_STREAM = 256;
    /** Bytes of responses one Stream may hold waiting for replication beyond its window. */
    public static final long MAX_AWAITING_BYTES_PER_STREAM = 16 << 20;

    private Limits() {
    }

    static String checkItems(int items) {
        return items > MAX_MULTI_OP_ITEMS
                ? "request has " + items + " items, over the limit of " + MAX_MULTI_OP_ITEMS + " (split it)" : null;
    }

    static String checkTable(long tableId) {
        return tableId == 0 ? "table_id is missing (0 is not a table id)" : null;
    }

    static String checkKey(ByteString key) {
        if (key.isEmpty()) {
            return "key is empty (keys are 1.." + MAX_KEY_BYTES + " bytes)";
        }
        if (key.size() > MAX_KEY_BYTES) {
            return "key is " + key.size() + " bytes, over the limit of " + MAX_KEY_BYTES;
        }
        return null;
    }

    static String checkTableAndKey(long tableId, ByteString key) {
        String problem = checkTable(tableId);
        return problem != null ? problem : checkKey(key);
    }

    static String checkValue(ByteString value) {
        return value.size() > MAX_VALUE_BYTES
                ? "value is " + value.size() + " bytes, over the limit of " + MAX_VALUE_BYTES : null;
    }
}
