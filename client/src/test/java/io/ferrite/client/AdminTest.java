package io.ferrite.client;

import io.ferrite.client.fake.FakeCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AdminTest {
    private FakeCluster cluster;
    private FerriteClient client;

    @AfterEach
    void tearDown() {
        if (client != null) {
            client.close();
        }
        cluster.close();
    }

    @Test
    void tableAdministration() {
        cluster = new FakeCluster(3);
        client = Ferrite.connect(cluster.coordinatorAddresses(), cluster.options().build());
        long id = client.createTable("a", 3);
        client.createTable("b");
        assertThatThrownBy(() -> client.createTable("a", 1)).isInstanceOf(TableExistsException.class);
        assertThat(client.listTables()).containsExactly(new TableInfo("a", id, 3), new TableInfo("b", id + 1, 1));
        Table a = client.table("a");
        assertThat(a.id()).isEqualTo(id);
        assertThat(client.table("a")).isSameAs(a);
        a.write("k", "v");

        client.dropTable("a");
        assertThatThrownBy(() -> client.dropTable("a")).isInstanceOf(TableNotFoundException.class);
        assertThatThrownBy(() -> a.read("k")).isInstanceOf(TableNotFoundException.class);
        assertThatThrownBy(() -> client.table("a")).isInstanceOf(TableNotFoundException.class);
        long id2 = client.createTable("a", 1);
        assertThat(client.table("a").id()).isEqualTo(id2);
        assertThatThrownBy(() -> a.read("k")).as("a handle is bound to the dropped table's id")
                .isInstanceOf(TableNotFoundException.class);

        assertThatThrownBy(() -> client.createTable("x/y", 1)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> client.createTable("", 1)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> client.createTable("z", 0)).isInstanceOf(InvalidArgumentException.class);

        assertThat(client.servers()).hasSize(3).allMatch(s -> s.status().equals("UP")
                && s.services().contains("master"));
        assertThat(client.servers().get(1).index()).isEqualTo(2);
        ClusterStatus status = client.clusterStatus();
        assertThat(status.serversUp()).isEqualTo(3);
        assertThat(status.tables()).isEqualTo(2);
    }

    @Test
    void followsNotLeaderAndSkipsUnreachableCoordinators() {
        cluster = new FakeCluster(2, 2);
        String addresses = cluster.deadAddress() + "," + cluster.coordinator(0).address();
        client = Ferrite.connect(addresses, cluster.options().build());
        assertThat(client.createTable("t", 2)).isPositive();
        assertThat(cluster.coordinator(0).mutationCalls.get()).isEqualTo(1);
        assertThat(cluster.coordinator(1).mutationCalls.get()).isEqualTo(1);
        assertThat(client.runtime().coordinator().preferred()).isEqualTo(cluster.coordinator(1).address());
        client.dropTable("t");
        assertThat(cluster.coordinator(0).mutationCalls.get()).as("the leader is remembered").isEqualTo(1);
        assertThat(client.listTables()).isEmpty();
    }

    @Test
    void noReachableCoordinatorTimesOut() {
        cluster = new FakeCluster(0, 0);
        client = Ferrite.connect(cluster.deadAddress(), cluster.options().timeout(Duration.ofMillis(200)).build());
        assertThatThrownBy(() -> client.listTables()).isInstanceOf(FerriteTimeoutException.class)
                .hasMessageContaining("UNAVAILABLE");
        assertThatThrownBy(() -> Ferrite.connect(" , ")).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> ClientOptions.builder().retryBackoff(Duration.ofMillis(5), Duration.ofMillis(1))
                .build()).isInstanceOf(InvalidArgumentException.class).hasMessageContaining("retryBackoffMax");
        assertThatThrownBy(() -> ClientOptions.builder().syncSpin(Duration.ofNanos(-1)).build())
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("syncSpin");
        assertThatThrownBy(() -> ClientOptions.builder().syncSpin(Duration.ofSeconds(1)).build())
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("syncSpin");
    }
}
