package io.ferrite.coordinator.recovery;

import io.ferrite.proto.v1.ServerStatus;
import io.ferrite.proto.v1.Tablet;
import io.ferrite.proto.v1.TabletState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@link RecoveryStore} in memory, with the same compare-and-set semantics as ZooKeeper
 * (every write checks the versions it was given and bumps them): for deterministic tests of the
 * orchestration, where a "leader" can be dropped between any two steps and another resumes.
 * Thread-safe.
 */
public final class InMemoryRecoveryStore implements RecoveryStore {
    private final Map<Long, Server> servers = new TreeMap<>();
    private final Set<Long> live = new HashSet<>();
    /** Tablets by (table, node). */
    private final Map<String, Map<String, StoredTablet>> tablets = new TreeMap<>();
    private final Set<Long> recoveries = new HashSet<>();
    private int writes;

    /** Adds or replaces a server record (bumping its version) and sets its liveness. */
    public synchronized void putServer(long id, String address, Set<String> services, ServerStatus status,
                                       boolean isLive) {
        Server old = servers.get(id);
        servers.put(id, new Server(id, address, services, status, old == null ? 0 : old.version() + 1));
        if (isLive) {
            live.add(id);
        } else {
            live.remove(id);
        }
    }

    /** Adds a tablet node. */
    public synchronized void putTablet(String table, String node, Tablet tablet) {
        Map<String, StoredTablet> nodes = tablets.computeIfAbsent(table, t -> new TreeMap<>());
        StoredTablet old = nodes.get(node);
        nodes.put(node, new StoredTablet(table, node, tablet, old == null ? 0 : old.version() + 1));
    }

    /** Successful writes so far (tests count steps with it). */
    public synchronized int writes() {
        return writes;
    }

    @Override
    public synchronized List<Server> servers() {
        return new ArrayList<>(servers.values());
    }

    @Override
    public synchronized boolean isLive(long serverId) {
        Server s = servers.get(serverId);
        return s != null && s.status() == ServerStatus.UP && live.contains(serverId);
    }

    @Override
    public synchronized List<StoredTablet> tablets() {
        List<StoredTablet> out = new ArrayList<>();
        tablets.values().forEach(nodes -> out.addAll(nodes.values()));
        return out;
    }

    @Override
    public synchronized Set<Long> recoveries() {
        return new HashSet<>(recoveries);
    }

    @Override
    public synchronized boolean decide(Server crashed, List<StoredTablet> owned) {
        Server current = servers.get(crashed.id());
        if (current == null || current.version() != crashed.version() || recoveries.contains(crashed.id())
                || !current(owned)) {
            return false;
        }
        servers.put(crashed.id(), new Server(crashed.id(), current.address(), current.services(),
                ServerStatus.REMOVED, current.version() + 1));
        recoveries.add(crashed.id());
        for (StoredTablet t : owned) {
            replace(t, t.tablet().toBuilder().setState(TabletState.RECOVERING).setRecoveryMasterId(0).build());
        }
        writes++;
        return true;
    }

    @Override
    public synchronized boolean split(StoredTablet tablet, List<Tablet> pieces) {
        if (!current(List.of(tablet))) {
            return false;
        }
        Map<String, StoredTablet> nodes = tablets.get(tablet.table());
        int next = 0;
        for (String node : nodes.keySet()) {
            next = Math.max(next, Integer.parseInt(node) + 1);
        }
        nodes.remove(tablet.node());
        for (Tablet piece : pieces) {
            String node = String.format("%06d", next++);
            nodes.put(node, new StoredTablet(tablet.table(), node, piece, 0));
        }
        writes++;
        return true;
    }

    @Override
    public synchronized boolean assign(List<StoredTablet> list, long recoveryMasterId) {
        if (!current(list)) {
            return false;
        }
        for (StoredTablet t : list) {
            replace(t, t.tablet().toBuilder().setRecoveryMasterId(recoveryMasterId).build());
        }
        writes++;
        return true;
    }

    @Override
    public synchronized boolean complete(List<StoredTablet> list, long newOwner, long segmentId, int offset) {
        if (!current(list)) {
            return false;
        }
        for (StoredTablet t : list) {
            replace(t, t.tablet().toBuilder().setState(TabletState.NORMAL).setOwnerId(newOwner).setRecoveryMasterId(0)
                    .setCreationSegmentId(segmentId).setCreationOffset(offset).build());
        }
        writes++;
        return true;
    }

    @Override
    public synchronized void progress(RecoveryProgress progress) {
        // Status only: the in-memory store keeps nothing of it.
    }

    @Override
    public synchronized void finish(long masterId) {
        if (recoveries.remove(masterId)) {
            writes++;
        }
    }

    private boolean current(List<StoredTablet> list) {
        Map<String, Integer> seen = new HashMap<>();
        for (StoredTablet t : list) {
            Map<String, StoredTablet> nodes = tablets.get(t.table());
            StoredTablet now = nodes == null ? null : nodes.get(t.node());
            if (now == null || now.version() != t.version() || seen.put(t.table() + "/" + t.node(), 1) != null) {
                return false;
            }
        }
        return true;
    }

    private void replace(StoredTablet t, Tablet updated) {
        tablets.get(t.table()).put(t.node(), new StoredTablet(t.table(), t.node(), updated, t.version() + 1));
    }
}
