package io.ferrite.server.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryForever;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three ensemble members in this JVM on 127.0.0.1: a quorum forms, a write through one member is
 * read through another, and when the leader stops the two others elect a new one and go on serving.
 */
class ZooKeeperEnsembleTest {
    private static final String HOST = "127.0.0.1";
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** Short ticks: followers sync within 10 ticks, elections finish quickly. */
    private static final int TICK_TIME_MS = 200;

    @TempDir
    Path dir;

    private final List<EmbeddedZooKeeper> members = new ArrayList<>();
    private final List<CuratorFramework> clients = new ArrayList<>();

    @AfterEach
    void close() {
        clients.forEach(CuratorFramework::close);
        members.forEach(EmbeddedZooKeeper::close);
    }

    @Test
    void quorumServesAndSurvivesItsLeader() throws Exception {
        int[] ports = freePorts(9);
        StringBuilder spec = new StringBuilder();
        for (int id = 1; id <= 3; id++) {
            spec.append(id == 1 ? "" : ",").append(id).append('=').append(HOST).append(':')
                    .append(ports[3 * (id - 1) + 1]).append(':').append(ports[3 * (id - 1) + 2]);
        }
        ZooKeeperEnsemble ensemble = ZooKeeperEnsemble.parse(spec.toString());
        for (int id = 1; id <= 3; id++) {
            ZooKeeperContext context = new ZooKeeperContext()
                    .dataDir(dir.resolve("zk" + id))
                    .listenHost(HOST)
                    .listenPort(ports[3 * (id - 1)])
                    .tickTimeMs(TICK_TIME_MS)
                    .ensemble(ensemble, id)
                    .conclude();
            members.add(EmbeddedZooKeeper.start(context, false)); // binds, returns before the quorum
        }
        for (EmbeddedZooKeeper member : members) {
            assertThat(member.awaitServing(WAIT.toMillis(), () -> false)).isTrue();
        }
        assertThat(members).extracting(m -> m.mode().orElseThrow())
                .containsExactlyInAnyOrder("leader", "follower", "follower");
        assertThat(dir.resolve("zk2/data/" + EmbeddedZooKeeper.MYID_FILE)).hasContent("2");

        EmbeddedZooKeeper leader = members.stream().filter(m -> isLeader(m)).findFirst().orElseThrow();
        List<EmbeddedZooKeeper> followers = members.stream().filter(m -> m != leader).toList();
        CuratorFramework writer = client(followers.get(0));
        CuratorFramework reader = client(followers.get(1));
        writer.create().forPath("/ensemble-test", bytes("one"));
        Awaitility.await().atMost(WAIT).ignoreExceptions()
                .until(() -> new String(reader.getData().forPath("/ensemble-test"), StandardCharsets.UTF_8),
                        "one"::equals);

        leader.close();
        members.remove(leader);
        Awaitility.await().atMost(WAIT).until(() -> members.stream().anyMatch(ZooKeeperEnsembleTest::isLeader));
        assertThat(members).extracting(m -> m.mode().orElse("not serving"))
                .containsExactlyInAnyOrder("leader", "follower");
        Awaitility.await().atMost(WAIT).ignoreExceptions().until(() -> {
            writer.setData().forPath("/ensemble-test", bytes("two"));
            return true;
        });
        Awaitility.await().atMost(WAIT).ignoreExceptions()
                .until(() -> new String(reader.getData().forPath("/ensemble-test"), StandardCharsets.UTF_8),
                        "two"::equals);
    }

    @Test
    void memberAloneDoesNotServe() throws Exception {
        int[] ports = freePorts(5);
        ZooKeeperEnsemble ensemble = ZooKeeperEnsemble.parse("1=" + HOST + ":" + ports[1] + ":" + ports[2]
                + ",2=" + HOST + ":" + ports[3] + ":" + ports[4]);
        EmbeddedZooKeeper alone = EmbeddedZooKeeper.start(new ZooKeeperContext()
                .dataDir(dir.resolve("alone")).listenHost(HOST).listenPort(ports[0]).tickTimeMs(TICK_TIME_MS)
                .ensemble(ensemble, 1).conclude(), false);
        members.add(alone);
        assertThat(alone.mode()).isEmpty();
        assertThat(alone.awaitServing(0, () -> true)).isFalse();
    }

    private static boolean isLeader(EmbeddedZooKeeper member) {
        return member.mode().equals(Optional.of("leader"));
    }

    private CuratorFramework client(EmbeddedZooKeeper member) {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(member.connectString())
                .sessionTimeoutMs(10_000)
                .connectionTimeoutMs(5_000)
                .retryPolicy(new RetryForever(100))
                .build();
        clients.add(client);
        client.start();
        return client;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Distinct free ports, all held open until all are picked. */
    private static int[] freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST));
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
    }
}
