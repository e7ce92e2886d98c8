package io.ferrite.coordinator.zk;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Paths of one cluster's nodes in ZooKeeper. Everything lives under {@code /ferrite/<cluster>/};
 * the layout is described in {@code docs/zookeeper-layout.md}:
 *
 * <pre>
 * /ferrite/&lt;cluster&gt;
 *   counters/next-table-id          UInt64Value    next table id to hand out (starts at 1)
 *   counters/next-server-index      UInt64Value    next server index to hand out (starts at 1)
 *   counters/coordinator-epoch      UInt64Value    epoch of the latest leader term (0: none yet)
 *   server-names/&lt;name&gt;             UInt64Value    newest server id registered under a stable name
 *   servers/&lt;index&gt;.&lt;generation&gt;    ServerInfo     one record per server generation
 *   live/&lt;index&gt;.&lt;generation&gt;       (ephemeral)    the server's liveness node
 *   tables/&lt;name&gt;                   TableInfo      name, id, tablet count
 *   tables/&lt;name&gt;/&lt;nnnnnn&gt;          Tablet         one tablet (owner address left empty)
 *   creating/&lt;name&gt;/&lt;nnnnnn&gt;        UInt64Value    tablet whose owner has not yet confirmed TakeTablets
 *   dropping/&lt;table id&gt;/&lt;server&gt;    TableInfo      owner that has not yet confirmed DropTableData
 *   snapshots/&lt;table id&gt;/&lt;snapshot id&gt; SnapshotInfo  one table snapshot: its tablets, holders, cuts
 *   autosave/&lt;table id&gt;            AutosaveSettings  automatic snapshots of a table: interval, memory budget
 *   coordinators/&lt;host:port&gt;        (ephemeral)    a running coordinator (data: host:port)
 *   leader/...                      Curator LeaderLatch (participant id = host:port)
 * </pre>
 *
 * <p>Table and server names are user input, so in node names they are escaped: ASCII letters,
 * digits, {@code '-'} and {@code '_'} stand for themselves, every other UTF-8 byte is written
 * {@code %XX} (upper-case hex). The escaping is reversible and never yields {@code "."},
 * {@code ".."} or a {@code '/'}.
 */
public final class ClusterPaths {
    /** Parent of every cluster's root. */
    public static final String BASE = "/ferrite";
    public static final int MAX_CLUSTER_NAME_LENGTH = 64;

    public static final String COUNTERS = "counters";
    public static final String SERVER_NAMES = "server-names";
    public static final String SERVERS = "servers";
    public static final String LIVE = "live";
    public static final String TABLES = "tables";
    public static final String CREATING = "creating";
    public static final String DROPPING = "dropping";
    public static final String COORDINATORS = "coordinators";
    public static final String LEADER = "leader";
    public static final String RECOVERIES = "recoveries";
    public static final String SNAPSHOTS = "snapshots";
    public static final String AUTOSAVE = "autosave";

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private final String cluster;
    private final String root;

    /**
     * @param cluster 1..64 characters of {@code [A-Za-z0-9._-]}, not {@code "."} or {@code ".."}
     * @throws IllegalArgumentException if the name breaks those rules
     */
    public ClusterPaths(String cluster) {
        String problem = clusterNameProblem(cluster);
        if (problem != null) {
            throw new IllegalArgumentException("cluster: " + problem);
        }
        this.cluster = cluster;
        this.root = BASE + "/" + cluster;
    }

    /** Why {@code name} cannot be a cluster name, or null if it can. */
    public static String clusterNameProblem(String name) {
        if (name == null || name.isEmpty()) {
            return "must not be empty";
        }
        if (name.length() > MAX_CLUSTER_NAME_LENGTH) {
            return "'" + name + "' is longer than " + MAX_CLUSTER_NAME_LENGTH + " characters";
        }
        if (name.equals(".") || name.equals("..")) {
            return "'" + name + "' is not allowed";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '-' || c == '_';
            if (!ok) {
                return "'" + name + "' may contain only letters, digits, '.', '-' and '_'";
            }
        }
        return null;
    }

    public String cluster() {
        return cluster;
    }

    /** {@code /ferrite/<cluster>}. */
    public String root() {
        return root;
    }

    /** The folders created when a cluster is first used. */
    public List<String> folders() {
        return List.of(root, path(COUNTERS), path(SERVER_NAMES), path(SERVERS), path(LIVE), path(TABLES),
                path(CREATING), path(DROPPING), path(COORDINATORS), path(RECOVERIES));
    }

    public String nextTableId() {
        return path(COUNTERS) + "/next-table-id";
    }

    public String nextServerIndex() {
        return path(COUNTERS) + "/next-server-index";
    }

    /**
     * The coordinator epoch: bumped (compare-and-set) by every coordinator that becomes leader,
     * so each leader term has a strictly larger number than every earlier one (a fencing token).
     */
    public String coordinatorEpoch() {
        return path(COUNTERS) + "/coordinator-epoch";
    }

    public String serverName(String stableName) {
        return path(SERVER_NAMES) + "/" + escape(stableName);
    }

    public String servers() {
        return path(SERVERS);
    }

    public String server(long serverId) {
        return path(SERVERS) + "/" + serverNode(serverId);
    }

    public String live() {
        return path(LIVE);
    }

    public String live(long serverId) {
        return path(LIVE) + "/" + serverNode(serverId);
    }

    public String tables() {
        return path(TABLES);
    }

    public String table(String tableName) {
        return path(TABLES) + "/" + escape(tableName);
    }

    public String tablet(String tableName, int tabletIndex) {
        return table(tableName) + "/" + tabletNode(tabletIndex);
    }

    public String creating() {
        return path(CREATING);
    }

    public String creating(String tableName) {
        return path(CREATING) + "/" + escape(tableName);
    }

    public String creating(String tableName, String tabletNode) {
        return creating(tableName) + "/" + tabletNode;
    }

    public String dropping() {
        return path(DROPPING);
    }

    public String dropping(long tableId) {
        return path(DROPPING) + "/" + Long.toUnsignedString(tableId);
    }

    public String dropping(long tableId, long serverId) {
        return dropping(tableId) + "/" + serverNode(serverId);
    }

    public String recoveries() {
        return path(RECOVERIES);
    }

    /** The record of a crashed master's recovery in progress. */
    public String recovery(long serverId) {
        return path(RECOVERIES) + "/" + serverNode(serverId);
    }

    public String autosaveRoot() {
        return path(AUTOSAVE);
    }

    public String autosave(long tableId) {
        return path(AUTOSAVE) + "/" + Long.toUnsignedString(tableId);
    }

    public String snapshotsRoot() {
        return path(SNAPSHOTS);
    }

    public String snapshots(long tableId) {
        return path(SNAPSHOTS) + "/" + Long.toUnsignedString(tableId);
    }

    /** A snapshot's node: its id zero-padded to 20 digits, so names sort by id. */
    public String snapshot(long tableId, long snapshotId) {
        return snapshots(tableId) + "/" + String.format("%020d", snapshotId);
    }

    public String coordinators() {
        return path(COORDINATORS);
    }

    /** A coordinator's node; its name is the address itself (host names and ports hold no '/'). */
    public String coordinator(String hostPort) {
        if (hostPort.indexOf('/') >= 0 || hostPort.equals(".") || hostPort.equals("..")) {
            throw new IllegalArgumentException("not a host:port address: " + hostPort);
        }
        return path(COORDINATORS) + "/" + hostPort;
    }

    public String leaderLatch() {
        return path(LEADER);
    }

    private String path(String folder) {
        return root + "/" + folder;
    }

    /** Node name of a server id: {@code <index>.<generation>}, both unsigned decimal. */
    public static String serverNode(long serverId) {
        return Integer.toUnsignedString((int) (serverId >>> 32)) + "." + Integer.toUnsignedString((int) serverId);
    }

    /** Inverse of {@link #serverNode(long)}. */
    public static long parseServerNode(String node) {
        int dot = node.indexOf('.');
        if (dot <= 0) {
            throw new IllegalArgumentException("not a server node name: " + node);
        }
        long index = Integer.parseUnsignedInt(node, 0, dot, 10) & 0xFFFF_FFFFL;
        long generation = Integer.parseUnsignedInt(node, dot + 1, node.length(), 10) & 0xFFFF_FFFFL;
        return index << 32 | generation;
    }

    /**
     * Like {@link #parseServerNode(String)}, for names that may be garbage (I6): the id, or 0
     * (never a server: index 0 is not handed out) if {@code node} is not a server node name.
     */
    public static long tryParseServerNode(String node) {
        try {
            long id = parseServerNode(node);
            return id >>> 32 == 0 || !serverNode(id).equals(node) ? 0 : id;
        } catch (IllegalArgumentException e) {
            return 0;
        }
    }

    /** Node name of a table's n-th tablet: six digits, so names sort in tablet order. */
    public static String tabletNode(int tabletIndex) {
        return String.format("%06d", tabletIndex);
    }

    /** Escapes a user-supplied name into a node name (see the class comment). */
    public static String escape(String name) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            int c = b & 0xFF;
            boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_';
            if (plain) {
                out.append((char) c);
            } else {
                out.append('%').append(HEX[c >>> 4]).append(HEX[c & 0xF]);
            }
        }
        return out.toString();
    }

    /** Inverse of {@link #escape(String)}. */
    public static String unescape(String node) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(node.length());
        for (int i = 0; i < node.length(); i++) {
            char c = node.charAt(i);
            if (c == '%' && i + 2 < node.length()) {
                out.write(Integer.parseInt(node, i + 1, i + 3, 16));
                i += 2;
            } else if (c == '%') {
                throw new IllegalArgumentException("truncated escape in node name: " + node);
            } else {
                out.write(c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
