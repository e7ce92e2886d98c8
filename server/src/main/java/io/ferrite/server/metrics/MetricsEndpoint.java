package io.ferrite.server.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code GET /metrics} in the Prometheus text format with the JDK's HTTP server, on one
 * daemon thread (scrapes are rare; they never touch the data path's threads).
 */
public final class MetricsEndpoint implements AutoCloseable {
    public static final String PATH = "/metrics";
    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);

    private final HttpServer server;
    private final ExecutorService executor;
    private final String address;

    private MetricsEndpoint(HttpServer server, ExecutorService executor, String host) {
        this.server = server;
        this.executor = executor;
        this.address = host + ":" + server.getAddress().getPort();
    }

    /**
     * Starts serving.
     *
     * @param host interface to bind
     * @param port port, 0 for any free one
     * @throws IOException if the port cannot be bound (the message names {@code metrics-port})
     */
    public static MetricsEndpoint start(String host, int port, PrometheusMeterRegistry registry) throws IOException {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 16);
        } catch (IOException e) {
            throw new IOException("metrics-port: cannot listen on " + host + ":" + port + " (" + e.getMessage() + ")", e);
        }
        ExecutorService executor = Executors.newSingleThreadExecutor(
                Thread.ofPlatform().daemon().name("ferrite-metrics").factory());
        server.setExecutor(executor);
        server.createContext("/", exchange -> handle(exchange, registry));
        server.start();
        return new MetricsEndpoint(server, executor, host.indexOf(':') >= 0 ? "[" + host + "]" : host);
    }

    private static void handle(HttpExchange exchange, PrometheusMeterRegistry registry) throws IOException {
        try (exchange) {
            if (!exchange.getRequestURI().getPath().equals(PATH)) {
                reply(exchange, 404, "text/plain; charset=utf-8", "not found; metrics are at " + PATH + "\n");
            } else if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                reply(exchange, 405, "text/plain; charset=utf-8", "only GET\n");
            } else {
                reply(exchange, 200, CONTENT_TYPE, registry.scrape());
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("metrics request failed: {}", e.toString());
        }
    }

    private static void reply(HttpExchange exchange, int code, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(code, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** {@code host:port} it serves on. */
    public String address() {
        return address;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
