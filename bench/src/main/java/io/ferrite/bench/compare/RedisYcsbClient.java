package io.ferrite.bench.compare;

import java.nio.charset.StandardCharsets;
import redis.clients.jedis.Jedis;
import site.ycsb.DBException;

/**
 * The YCSB binding of Redis, over Jedis: one connection per YCSB thread (Redis serves one
 * command at a time per connection, so a thread's connection is its in-flight depth of one, as
 * for the other systems). A record is one string value ({@link RecordCodec}) under the YCSB
 * key itself: the benchmark uses one table, so no prefix adds bytes the other systems do not
 * store. Properties {@code redis.host} and {@code redis.port}.
 */
public final class RedisYcsbClient extends BlobRecordDb {
    /** The property naming the server's host. */
    public static final String HOST = "redis.host";
    /** The property naming the server's port. */
    public static final String PORT = "redis.port";

    private Jedis jedis;

    @Override
    public void init() throws DBException {
        String host = getProperties().getProperty(HOST, "127.0.0.1");
        String port = getProperties().getProperty(PORT);
        if (port == null) {
            throw new DBException("property " + PORT + " is missing");
        }
        try {
            jedis = new Jedis(host, Integer.parseInt(port), 120_000);
            jedis.ping();
        } catch (RuntimeException e) {
            throw new DBException("cannot connect to redis at " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void cleanup() {
        if (jedis != null) {
            jedis.close();
        }
    }

    /** The Redis key of a YCSB record: the key itself (one table per database). */
    static byte[] redisKey(String table, String key) {
        return key.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    protected byte[] get(String table, String key) {
        return jedis.get(redisKey(table, key));
    }

    @Override
    protected void set(String table, String key, byte[] value) {
        jedis.set(redisKey(table, key), value);
    }

    @Override
    protected boolean remove(String table, String key) {
        return jedis.del(redisKey(table, key)) == 1;
    }

    @Override
    protected String store() {
        return "redis";
    }
}
