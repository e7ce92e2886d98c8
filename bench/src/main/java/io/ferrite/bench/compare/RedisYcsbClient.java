package io.ferrite.bench.compare;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.Vector;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisException;
import site.ycsb.ByteIterator;
import site.ycsb.DB;
import site.ycsb.DBException;
import site.ycsb.Status;

/**
 * The YCSB binding of Redis, over Jedis: one connection per YCSB thread (Redis serves one
 * command at a time per connection, so a thread's connection is its in-flight depth of one, as
 * for the other systems). A record is one string value ({@link RecordCodec}) under the YCSB
 * key itself: the benchmark uses one table, so no prefix adds bytes the other systems do not
 * store. Properties {@code redis.host} and {@code redis.port}.
 */
public final class RedisYcsbClient extends DB {
    /** The property naming the server's host. */
    public static final String HOST = "redis.host";
    /** The property naming the server's port. */
    public static final String PORT = "redis.port";

    private static volatile boolean errorPrinted;

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
    public Status read(String table, String key, Set<String> fields, Map<String, ByteIterator> result) {
        try {
            byte[] value = jedis.get(redisKey(table, key));
            if (value == null) {
                return Status.NOT_FOUND;
            }
            RecordCodec.decode(value, fields, result);
            return Status.OK;
        } catch (JedisException e) {
            return error("GET", e);
        }
    }

    @Override
    public Status scan(String table, String startkey, int recordcount, Set<String> fields,
                       Vector<HashMap<String, ByteIterator>> result) {
        return Status.NOT_IMPLEMENTED;
    }

    @Override
    public Status update(String table, String key, Map<String, ByteIterator> values) {
        return insert(table, key, values);
    }

    @Override
    public Status insert(String table, String key, Map<String, ByteIterator> values) {
        try {
            jedis.set(redisKey(table, key), RecordCodec.encode(values));
            return Status.OK;
        } catch (JedisException e) {
            return error("SET", e);
        }
    }

    @Override
    public Status delete(String table, String key) {
        try {
            return jedis.del(redisKey(table, key)) == 1 ? Status.OK : Status.NOT_FOUND;
        } catch (JedisException e) {
            return error("DEL", e);
        }
    }

    private static Status error(String what, JedisException e) {
        if (!errorPrinted) {
            errorPrinted = true;
            System.err.println("redis binding: " + what + " failed (first error only): " + e);
        }
        return Status.ERROR;
    }
}
