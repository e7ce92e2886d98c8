package io.ferrite.bench.compare;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.ObjectValue;
import io.ferrite.client.Table;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import site.ycsb.DBException;

/**
 * The YCSB binding of Ferrite, over the Java SDK. YCSB makes one instance per client thread;
 * they share one {@link FerriteClient} (its channels multiplex every thread's calls), opened by
 * the first {@link #init()} and closed by the last {@link #cleanup()}. Properties
 * {@code ferrite.address}: the coordinators' {@code host:port} list; {@code ferrite.syncspin.us}:
 * how long a call spins before it parks (default 0: YCSB runs more threads than the client has
 * cores, and a spinning thread takes the core from the one whose reply just came).
 */
public final class FerriteYcsbClient extends BlobRecordDb {
    /** The property naming the cluster's coordinators. */
    public static final String ADDRESS = "ferrite.address";
    /** The property bounding a synchronous call's spin, in microseconds. */
    public static final String SYNC_SPIN_US = "ferrite.syncspin.us";

    private static final Object LOCK = new Object();
    private static FerriteClient shared;
    private static int users;
    private static final Map<String, Table> TABLES = new ConcurrentHashMap<>();

    private FerriteClient client;

    @Override
    public void init() throws DBException {
        String address = getProperties().getProperty(ADDRESS);
        if (address == null) {
            throw new DBException("property " + ADDRESS + " (the coordinators' host:port list) is missing");
        }
        synchronized (LOCK) {
            if (shared == null) {
                long spinUs = Long.parseLong(getProperties().getProperty(SYNC_SPIN_US, "0"));
                shared = Ferrite.connect(address, ClientOptions.builder().timeout(Duration.ofSeconds(120))
                        .syncSpin(Duration.ofNanos(spinUs * 1000)).build());
                connect(shared, getProperties().getProperty("table", "usertable"));
            }
            users++;
            client = shared;
        }
    }

    @Override
    public void cleanup() {
        synchronized (LOCK) {
            if (--users == 0) {
                shared.close();
                shared = null;
                TABLES.clear();
            }
        }
    }

    /**
     * Opens the channels before the first measured call, as the other bindings connect in
     * {@code init()}: the client's channels connect on first use, and the first call of a fresh
     * JVM would otherwise carry the connection set-up and class loading (measured: ~0.8 s).
     * Reads a spread of absent keys so every master of the table is reached.
     */
    private static void connect(FerriteClient client, String tableName) throws DBException {
        try {
            Table table = TABLES.computeIfAbsent(tableName, client::table);
            for (int i = 0; i < 64; i++) {
                table.read(("ycsb-connect-" + i).getBytes(StandardCharsets.UTF_8));
            }
        } catch (RuntimeException e) {
            throw new DBException("cannot reach table " + tableName + ": " + e.getMessage(), e);
        }
    }

    private Table table(String name) {
        return TABLES.computeIfAbsent(name, client::table);
    }

    @Override
    protected byte[] get(String table, String key) {
        Optional<ObjectValue> value = table(table).read(key.getBytes(StandardCharsets.UTF_8));
        return value.map(ObjectValue::value).orElse(null);
    }

    @Override
    protected void set(String table, String key, byte[] value) {
        table(table).write(key.getBytes(StandardCharsets.UTF_8), value);
    }

    @Override
    protected boolean remove(String table, String key) {
        return table(table).remove(key.getBytes(StandardCharsets.UTF_8)).isPresent();
    }

    @Override
    protected String store() {
        return "ferrite";
    }
}
