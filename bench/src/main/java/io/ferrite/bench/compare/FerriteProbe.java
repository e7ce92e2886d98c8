package io.ferrite.bench.compare;

import io.ferrite.proto.v1.CoordinatorServiceGrpc;
import io.ferrite.proto.v1.GetTabletMapRequest;
import io.ferrite.proto.v1.ListServersRequest;
import io.ferrite.proto.v1.ServerInfo;
import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Tablet;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import io.grpc.ManagedChannel;

/**
 * What the benchmarks ask a Ferrite cluster from outside: the tablet map and server list from
 * the coordinator (gRPC), and a server's gauges from its Prometheus endpoint.
 */
public final class FerriteProbe {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private FerriteProbe() {
    }

    /** The tablets of {@code table}. */
    public static List<Tablet> tablets(ManagedChannel coordinator, String table) {
        return CoordinatorServiceGrpc.newBlockingStub(coordinator).withDeadlineAfter(5, TimeUnit.SECONDS)
                .getTabletMap(GetTabletMapRequest.newBuilder().setName(table).build()).getTabletsList();
    }

    /** A server's status, {@code REMOVED} once the coordinator no longer lists it. */
    public static ServerStatus status(ManagedChannel coordinator, long serverId) {
        for (ServerInfo s : CoordinatorServiceGrpc.newBlockingStub(coordinator).withDeadlineAfter(5, TimeUnit.SECONDS)
                .listServers(ListServersRequest.getDefaultInstance()).getServersList()) {
            if (s.getServerId() == serverId) {
                return s.getStatus();
            }
        }
        return ServerStatus.REMOVED;
    }

    /** Whether the tablets cover the whole hash space (a split is seen node by node by the cache). */
    public static boolean coversHashSpace(List<Tablet> tablets) {
        List<Tablet> sorted = new ArrayList<>(tablets);
        sorted.sort((a, b) -> Long.compareUnsigned(a.getStartHash(), b.getStartHash()));
        long next = 0;
        for (int i = 0; i < sorted.size(); i++) {
            Tablet t = sorted.get(i);
            if (t.getStartHash() != next) {
                return false;
            }
            if (t.getEndHash() == -1L) {
                return i == sorted.size() - 1;
            }
            next = t.getEndHash() + 1;
        }
        return false;
    }

    /**
     * The value of a gauge in a server's Prometheus text ({@code http://<metrics>/metrics}),
     * summed over its label sets.
     *
     * @param name the Prometheus name, e.g. {@code ferrite_memory_used_bytes}
     * @throws IllegalStateException if the endpoint has no such gauge
     */
    public static double gauge(String metricsAddress, String name) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + metricsAddress + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        double sum = 0;
        boolean found = false;
        for (String line : response.body().split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                found = true;
            }
        }
        if (!found) {
            throw new IllegalStateException(metricsAddress + " has no gauge " + name);
        }
        return sum;
    }
}
