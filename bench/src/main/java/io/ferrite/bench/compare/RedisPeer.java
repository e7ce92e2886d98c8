package io.ferrite.bench.compare;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * A {@code redis-server} process (Debian's package, installed when absent) with the append-only
 * file on and {@code appendfsync} {@code everysec} or {@code always}; RDB snapshots off during
 * the runs ({@code save ""}), so no fork competes with them.
 */
public final class RedisPeer implements PeerSystem {
    /** What a restart measured: the file it loaded and the time from exec until it served. */
    public record Restart(long fileBytes, long serviceMs, long keys) {
    }

    private final Path executable;
    private final String fsync;
    private final Path dir;
    private final int port;
    private final String cpus;
    private final String version;
    private Process process;

    private RedisPeer(Path executable, String fsync, Path dir, int port, String cpus, String version) {
        this.executable = executable;
        this.fsync = fsync;
        this.dir = dir;
        this.port = port;
        this.cpus = cpus;
        this.version = version;
    }

    /** The redis-server executable, installing Debian's package when it is absent; null if impossible. */
    public static Path findOrInstall(PrintStream err) throws InterruptedException {
        for (String d : List.of("/usr/bin", "/usr/local/bin", "/usr/sbin")) {
            Path p = Path.of(d, "redis-server");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        err.println("redis-server not found; installing Debian's redis-server (apt-get)");
        try {
            Process apt = new ProcessBuilder("apt-get", "install", "-y", "-q", "redis-server")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            apt.getOutputStream().close();
            if (!apt.waitFor(10, TimeUnit.MINUTES) || apt.exitValue() != 0) {
                err.println("apt-get install redis-server failed; the Redis comparison is skipped");
                return null;
            }
        } catch (IOException e) {
            err.println("cannot run apt-get (" + e.getMessage() + "); the Redis comparison is skipped");
            return null;
        }
        return Files.isExecutable(Path.of("/usr/bin/redis-server")) ? Path.of("/usr/bin/redis-server") : null;
    }

    /**
     * Starts redis-server in {@code dir} and returns once it answers {@code PING}.
     *
     * @param fsync {@code everysec} or {@code always}
     * @param cpus  the taskset CPU list it runs on (restarts too), or null for any
     */
    public static RedisPeer start(Path executable, String fsync, Path dir, String cpus, PrintStream progress)
            throws IOException, InterruptedException {
        if (!fsync.equals("everysec") && !fsync.equals("always")) {
            throw new IllegalArgumentException("appendfsync must be everysec or always, not " + fsync);
        }
        Files.createDirectories(dir);
        String version = new String(new ProcessBuilder(executable.toString(), "--version").start().getInputStream()
                .readAllBytes()).strip();
        int v = version.indexOf("v=");
        version = v < 0 ? version : version.substring(v + 2, version.indexOf(' ', v));
        RedisPeer peer = new RedisPeer(executable, fsync, dir, freePort(), cpus, version);
        long t0 = System.nanoTime();
        peer.launch(true);
        peer.awaitServing(TimeUnit.SECONDS.toNanos(60));
        progress.printf("compare: %s ready on port %d (pid %d, %.1f s)%n", peer.name(), peer.port,
                peer.process.pid(), (System.nanoTime() - t0) / 1e9);
        return peer;
    }

    private void launch(boolean appendOnly) throws IOException {
        List<String> command = new ArrayList<>(List.of(executable.toString(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--dir", dir.toString(), "--dbfilename", "dump.rdb", "--save", "",
                "--appendonly", appendOnly ? "yes" : "no", "--appendfsync", fsync, "--protected-mode", "no",
                "--daemonize", "no"));
        process = new ProcessBuilder(Procs.pinnedCommand(cpus, command)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log").toFile())).start();
    }

    /** Polls PING until PONG (not LOADING); fails if the process exits or the deadline passes. */
    private void awaitServing(long timeoutNs) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeoutNs;
        while (true) {
            try (Jedis jedis = new Jedis("127.0.0.1", port, 5_000)) {
                if ("PONG".equals(jedis.ping())) {
                    return;
                }
            } catch (JedisConnectionException | JedisDataException e) {
                if (!process.isAlive()) {
                    throw new IOException("redis-server exited with status " + process.exitValue() + "; see "
                            + dir.resolve("redis.log"));
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("redis-server did not serve within the deadline: " + e.getMessage());
                }
            }
            Thread.sleep(1);
        }
    }

    @Override
    public String name() {
        return "redis-" + fsync;
    }

    @Override
    public String description() {
        return "Redis " + version + " (Debian redis-server, jemalloc), one process, appendonly yes, appendfsync "
                + fsync + ", save \"\" (no RDB snapshot during the runs); records as one string value each";
    }

    @Override
    public String ycsbBinding() {
        return RedisYcsbClient.class.getName();
    }

    @Override
    public Map<String, String> ycsbProperties() {
        return Map.of(RedisYcsbClient.HOST, "127.0.0.1", RedisYcsbClient.PORT, Integer.toString(port));
    }

    @Override
    public List<ProcessHandle> processes() {
        return List.of(process.toHandle());
    }

    @Override
    public void clear() {
        try (Jedis jedis = jedis()) {
            jedis.flushAll();
        }
    }

    private Jedis jedis() {
        return new Jedis("127.0.0.1", port, 600_000);
    }

    @Override
    public Map<String, Long> memory() throws IOException {
        String info;
        try (Jedis jedis = jedis()) {
            info = jedis.info("memory");
        }
        return Map.of("rss", Procs.rssBytes(process.toHandle()), "used_memory", infoField(info, "used_memory"));
    }

    private static long infoField(String info, String field) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).strip());
            }
        }
        throw new IllegalStateException("INFO has no " + field);
    }

    /** The number of keys. */
    public long keys() {
        try (Jedis jedis = jedis()) {
            return jedis.dbSize();
        }
    }

    /**
     * {@code kill -9}, then a restart on the append-only file; times exec until PING answers.
     * Checks that every key came back.
     */
    public Restart restartOnAof() throws IOException, InterruptedException {
        long keys = keys();
        Procs.kill9(process.toHandle());
        long bytes = treeBytes(dir.resolve("appendonlydir"));
        return timedRestart(true, keys, bytes);
    }

    /** {@code SAVE}, {@code kill -9}, then a restart on the RDB alone (append-only off); times it likewise. */
    public Restart restartOnRdb() throws IOException, InterruptedException {
        long keys = keys();
        try (Jedis jedis = jedis()) {
            jedis.save();
        }
        Procs.kill9(process.toHandle());
        return timedRestart(false, keys, Files.size(dir.resolve("dump.rdb")));
    }

    private Restart timedRestart(boolean appendOnly, long keys, long fileBytes) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        launch(appendOnly);
        awaitServing(TimeUnit.MINUTES.toNanos(10));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        long now = keys();
        if (now != keys) {
            throw new IllegalStateException(name() + " restarted with " + now + " keys, not " + keys);
        }
        return new Restart(fileBytes, ms, keys);
    }

    private static long treeBytes(Path root) throws IOException {
        if (!Files.exists(root)) {
            return 0;
        }
        try (var files = Files.walk(root)) {
            long sum = 0;
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                sum += Files.size(p);
            }
            return sum;
        }
    }

    @Override
    public void close() throws IOException {
        if (process != null) {
            try {
                Procs.kill9(process.toHandle());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Trees.delete(dir);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
