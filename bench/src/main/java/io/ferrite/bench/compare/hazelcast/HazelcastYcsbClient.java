package io.ferrite.bench.compare.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.ferrite.bench.compare.BlobRecordDb;
import io.ferrite.bench.compare.RecordCodec;
import java.util.List;
import site.ycsb.DBException;

/**
 * The YCSB binding of Hazelcast: an {@code IMap<String, byte[]>} per YCSB table, each record one
 * value ({@link RecordCodec}). YCSB makes one DB per thread; they share one smart client per JVM
 * (Hazelcast's client multiplexes every thread over its connections), opened by the first
 * {@link #init()} and closed by the last {@link #cleanup()}. Each thread still has one call in
 * flight, as with the other systems. Properties {@value #MEMBERS} and {@value #CLUSTER}.
 */
public final class HazelcastYcsbClient extends BlobRecordDb {
    /** The property listing the member addresses, {@code host:port,host:port}. */
    public static final String MEMBERS = "hazelcast.members";
    /** The property naming the cluster. */
    public static final String CLUSTER = "hazelcast.cluster";

    private static final Object SHARED_LOCK = new Object();
    private static HazelcastInstance sharedClient;
    private static int sharedUsers;

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
    protected byte[] get(String table, String key) {
        return map(table).get(key);
    }

    @Override
    protected void set(String table, String key, byte[] value) {
        map(table).set(key, value);
    }

    /** {@code IMap.delete} does not say whether the key existed: always true. */
    @Override
    protected boolean remove(String table, String key) {
        map(table).delete(key);
        return true;
    }

    @Override
    protected String store() {
        return "hazelcast";
    }
}
