package io.ferrite.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Redis side of {@code bench recovery}: loads the same objects into a {@code redis-server}
 * (Debian's, installed when absent), saves its RDB, restarts it on that file and times the load
 * (process start until {@code PING} answers {@code PONG} instead of {@code LOADING}). Speaks RESP
 * over a socket with pipelined {@code SET}s; no client library is needed for that.
 */
final class RedisRdbLoad {
    /** What was measured: RDB bytes on disk and the time from start to serving. */
    record Result(long rdbBytes, long loadMs) {
    }

    private RedisRdbLoad() {
    }

    /** The redis-server executable, installing Debian's package when it is absent; null if impossible. */
    static Path findOrInstall(PrintStream err) throws InterruptedException {
        return io.ferrite.bench.compare.RedisPeer.findOrInstall(err);
    }

    /**
     * Loads {@code objects} values ({@code keyOf}/{@code valueOf} as for Ferrite), saves, restarts
     * and times the load.
     */
    static Result measure(Path redisServer, long objects, java.util.function.LongFunction<byte[]> keyOf,
                          java.util.function.LongFunction<byte[]> valueOf, PrintStream err) throws Exception {
        Path dir = Files.createTempDirectory("ferrite-bench-redis-");
        int port = freePort();
        Process redis = start(redisServer, dir, port);
        try {
            try (Socket socket = connect(port, redis)) {
                OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 1 << 20);
                InputStream in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
                long t0 = System.nanoTime();
                long pending = 0;
                for (long i = 0; i < objects; i++) {
                    command(out, "SET".getBytes(StandardCharsets.US_ASCII), keyOf.apply(i), valueOf.apply(i));
                    if (++pending == 1024) {
                        out.flush();
                        readReplies(in, pending);
                        pending = 0;
                    }
                }
                out.flush();
                readReplies(in, pending);
                err.printf("bench recovery: Redis loaded %d objects in %.1f s; saving its RDB%n", objects,
                        (System.nanoTime() - t0) / 1e9);
                command(out, "SAVE".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                readReplies(in, 1);
                command(out, "SHUTDOWN".getBytes(StandardCharsets.US_ASCII), "NOSAVE".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            redis.waitFor(60, TimeUnit.SECONDS);
            long rdbBytes = Files.size(dir.resolve("dump.rdb"));
            long t0 = System.nanoTime();
            redis = start(redisServer, dir, port);
            try (Socket socket = connect(port, redis)) {
                OutputStream out = socket.getOutputStream();
                InputStream in = new BufferedInputStream(socket.getInputStream());
                while (true) {
                    command(out, "PING".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    String reply = readLine(in);
                    if (reply.equals("+PONG")) {
                        break;
                    }
                    if (!reply.startsWith("-LOADING")) {
                        throw new IOException("redis answered PING with " + reply);
                    }
                    Thread.sleep(1);
                }
            }
            long loadMs = (System.nanoTime() - t0) / 1_000_000;
            err.printf("bench recovery: Redis restarted on its RDB (%d MB) and served after %d ms%n", rdbBytes >> 20,
                    loadMs);
            return new Result(rdbBytes, loadMs);
        } finally {
            redis.destroyForcibly();
            redis.waitFor(30, TimeUnit.SECONDS);
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static Process start(Path redisServer, Path dir, int port) throws IOException {
        return new ProcessBuilder(redisServer.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--dir", dir.toString(), "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no",
                "--protected-mode", "no", "--daemonize", "no")
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
    }

    /** Connects once the server listens (it may still be starting). */
    private static Socket connect(int port, Process redis) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return new Socket("127.0.0.1", port);
            } catch (IOException e) {
                if (!redis.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("redis-server on port " + port + " did not accept connections", e);
                }
                Thread.sleep(1);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void command(OutputStream out, byte[]... parts) throws IOException {
        out.write(('*' + Integer.toString(parts.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (byte[] part : parts) {
            out.write(('$' + Integer.toString(part.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(part);
            out.write('\r');
            out.write('\n');
        }
    }

    private static void readReplies(InputStream in, long count) throws IOException {
        for (long i = 0; i < count; i++) {
            String reply = readLine(in);
            if (reply.startsWith("-")) {
                throw new IOException("redis refused a command: " + reply);
            }
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\r') {
                in.read();
                return line.toString();
            }
            line.append((char) c);
        }
        throw new IOException("redis closed the connection");
    }
}
