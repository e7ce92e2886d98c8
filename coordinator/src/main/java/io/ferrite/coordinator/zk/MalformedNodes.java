package io.ferrite.coordinator.zk;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bad metadata is contained (issue 9, I6): a node whose name does not parse, whose data does not
 * decode, or that should not be where it is, is skipped by whoever reads it, and reported here.
 * Each (path, version) is logged once, however often the readers that skip it run (the
 * replication sender reads the server list every few milliseconds); every sighting is counted.
 *
 * <p>Thread-safe. At most {@value #MAX_REMEMBERED} distinct nodes are remembered; past that
 * further ones are still counted but logged only at debug level, so garbage that keeps changing
 * cannot grow the heap.
 */
public final class MalformedNodes {
    private static final Logger LOG = LoggerFactory.getLogger(MalformedNodes.class);
    static final int MAX_REMEMBERED = 4_096;

    private final String reader;
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private final AtomicLong sightings = new AtomicLong();

    /** @param reader who reads the nodes, named in the log ("cluster view", "failure detector", ...) */
    public MalformedNodes(String reader) {
        this.reader = reader;
    }

    /**
     * Records that the node at {@code path} was skipped.
     *
     * @param version the node's data version (or modification zxid), so a repaired-then-broken
     *                node is reported again; -1 if unknown
     * @param reason  what is wrong with it
     */
    public void skipped(String path, long version, String reason) {
        sightings.incrementAndGet();
        String key = path + "@" + version;
        if (reported.contains(key)) {
            return;
        }
        if (reported.size() < MAX_REMEMBERED && reported.add(key)) {
            LOG.warn("{}: skipping malformed ZooKeeper node {} (version {}): {}; it is ignored until repaired",
                    reader, path, version, reason);
        } else {
            LOG.debug("{}: skipping malformed ZooKeeper node {}: {}", reader, path, reason);
        }
    }

    /** How many times a malformed node was skipped. */
    public long sightings() {
        return sightings.get();
    }

    /** How many distinct (path, version) pairs were reported. */
    public int distinct() {
        return reported.size();
    }
}
