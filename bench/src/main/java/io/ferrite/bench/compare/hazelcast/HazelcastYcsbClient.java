package io.ferrite.bench.compare.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.ferrite.bench.compare.RecordCodec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Vector;
import java.util.concurrent.atomic.AtomicBoolean;
import site.ycsb.ByteIterator;
import site.ycsb.DB;
import site.ycsb.DBException;
import site.ycsb.Status;

/**
 * The YCSB binding of Hazelcast: an {@code IMap<String, byte[]>} per YCSB table, each record one
 * value ({@link RecordCodec}). YCSB makes one DB per thread; they share one smart client per JVM
 * (Hazelcast's client multiplexes every thread over its connections), opened by the first
 * {@link #init()} and closed by the last {@link #cleanup()}. Each thread still has one call in
 * flight, as with the other systems. Properties {@value #MEMBERS} and {@value #CLUSTER}.
 */
public final class HazelcastYcsbClient extends DB {
    /** The property listing the member addresses, {@code host:port,host:port}. */
    public static final String MEMBERS = "hazelcast.members";
    /** The property naming the cluster. */
    public static final String CLUSTER = "hazelcast.cluster";

    private static final Object SHARED_LOCK = new Object();
    private static HazelcastInstance sharedClient;
    private static int sharedUsers;
    private static final AtomicBoolean ERROR_PRINTED = new AtomicBoolean();

    private HazelcastInstance client;
    private String mapName;
    private IMap<String, byte[]> map;

    @Override
    public void init() throws DBException {
        String members = getProperties().getProperty(MEMBERS);
        String cluster = getProperties().getProperty(CLUSTER);
        if (members == null || members.isBlank()) {
            throw new DBException("property " + MEMBERS + " is missing");
        }
        if (cluster == null || cluster.isBlank()) {
            throw new DBException("property " + CLUSTER + " is missing");
        }
        synchronized (SHARED_LOCK) {
            if (sharedClient == null) {
                try {
                    sharedClient = HazelcastClients.connect(cluster, List.of(members.split(",")));
                } catch (RuntimeException e) {
                    throw new DBException("cannot connect to hazelcast cluster " + cluster + " at " + members + ": "
                            + e.getMessage(), e);
                }
            }
            sharedUsers++;
            client = sharedClient;
        }
    }

    @Override
    public void cleanup() {
        synchronized (SHARED_LOCK) {
            if (client == null) {
                return;
            }
            client = null;
            map = null;
            if (--sharedUsers == 0) {
                sharedClient.shutdown();
                sharedClient = null;
            }
        }
    }

    private IMap<String, byte[]> map(String table) {
        if (!table.equals(mapName)) {
            map = client.getMap(table);
            mapName = table;
        }
        return map;
    }

    @Override
    public Status read(String table, String key, Set<String> fields, Map<String, ByteIterator> result) {
        try {
            byte[] value = map(table).get(key);
            if (value == null) {
                return Status.NOT_FOUND;
            }
            RecordCodec.decode(value, fields, result);
            return Status.OK;
        } catch (RuntimeException e) {
            return error("get", e);
        }
    }

    @Override
    public Status scan(String table, String startkey, int recordcount, Set<String> fields,
                       Vector<HashMap<String, ByteIterator>> result) {
        return Status.NOT_IMPLEMENTED;
    }

    /** Replaces the record: the comparison runs YCSB with {@code writeallfields=true}. */
    @Override
    public Status update(String table, String key, Map<String, ByteIterator> values) {
        return set("update", table, key, values);
    }

    @Override
    public Status insert(String table, String key, Map<String, ByteIterator> values) {
        return set("insert", table, key, values);
    }

    private Status set(String op, String table, String key, Map<String, ByteIterator> values) {
        try {
            map(table).set(key, RecordCodec.encode(values));
            return Status.OK;
        } catch (RuntimeException e) {
            return error(op, e);
        }
    }

    @Override
    public Status delete(String table, String key) {
        try {
            map(table).delete(key);
            return Status.OK;
        } catch (RuntimeException e) {
            return error("delete", e);
        }
    }

    /** Counts on YCSB's error tally; prints the first error of the JVM so a run that fails says why. */
    private static Status error(String op, RuntimeException e) {
        if (ERROR_PRINTED.compareAndSet(false, true)) {
            System.err.println("hazelcast " + op + " failed (first error; later ones are only counted): " + e);
            e.printStackTrace(System.err);
        }
        return Status.ERROR;
    }
}
