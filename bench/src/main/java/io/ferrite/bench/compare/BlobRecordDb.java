package io.ferrite.bench.compare;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.Vector;
import java.util.concurrent.atomic.AtomicBoolean;
import site.ycsb.ByteIterator;
import site.ycsb.DB;
import site.ycsb.Status;

/**
 * What every binding of the comparison shares: a YCSB record is one value ({@link RecordCodec})
 * under the YCSB key, an update replaces it (the comparison runs YCSB with
 * {@code writeallfields=true}), scans are not offered, and a failed call counts as YCSB's
 * {@code ERROR} after the JVM's first failure was printed with its cause. A binding supplies
 * the three calls on its store.
 */
public abstract class BlobRecordDb extends DB {
    private static final AtomicBoolean ERROR_PRINTED = new AtomicBoolean();

    /** The value under {@code key}, or null when absent. */
    protected abstract byte[] get(String table, String key);

    /** Stores {@code value} under {@code key}, replacing any value. */
    protected abstract void set(String table, String key, byte[] value);

    /** Removes {@code key}; false only when the store says it was absent. */
    protected abstract boolean remove(String table, String key);

    /** The store's name in error messages, e.g. {@code redis}. */
    protected abstract String store();

    @Override
    public final Status read(String table, String key, Set<String> fields, Map<String, ByteIterator> result) {
        try {
            byte[] value = get(table, key);
            if (value == null) {
                return Status.NOT_FOUND;
            }
            RecordCodec.decode(value, fields, result);
            return Status.OK;
        } catch (RuntimeException e) {
            return error("read", e);
        }
    }

    @Override
    public final Status scan(String table, String startkey, int recordcount, Set<String> fields,
                             Vector<HashMap<String, ByteIterator>> result) {
        return Status.NOT_IMPLEMENTED;
    }

    @Override
    public final Status update(String table, String key, Map<String, ByteIterator> values) {
        return write("update", table, key, values);
    }

    @Override
    public final Status insert(String table, String key, Map<String, ByteIterator> values) {
        return write("insert", table, key, values);
    }

    private Status write(String op, String table, String key, Map<String, ByteIterator> values) {
        try {
            set(table, key, RecordCodec.encode(values));
            return Status.OK;
        } catch (RuntimeException e) {
            return error(op, e);
        }
    }

    @Override
    public final Status delete(String table, String key) {
        try {
            return remove(table, key) ? Status.OK : Status.NOT_FOUND;
        } catch (RuntimeException e) {
            return error("delete", e);
        }
    }

    private Status error(String op, RuntimeException e) {
        if (ERROR_PRINTED.compareAndSet(false, true)) {
            System.err.println(store() + " " + op + " failed (first error; later ones are only counted): " + e);
            e.printStackTrace(System.err);
        }
        return Status.ERROR;
    }
}
