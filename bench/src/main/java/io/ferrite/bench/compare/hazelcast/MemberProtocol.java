package io.ferrite.bench.compare.hazelcast;

/**
 * The line protocol between {@link HazelcastPeer} and a member JVM ({@link HazelcastMemberMain}).
 * The member's stdout carries only these replies; its stdin carries one command a line.
 *
 * <pre>
 *   member -&gt; peer, once started (and joined):  READY hazelcast 127.0.0.1:5701
 *   stats    -&gt;  STATS heapUsed=&lt;bytes&gt; ownedEntries=&lt;n&gt; ownedEntryMemoryCost=&lt;bytes&gt;
 *                      backupEntries=&lt;n&gt; backupEntryMemoryCost=&lt;bytes&gt;   (one line, after a GC)
 *   safe     -&gt;  SAFE true|false        (PartitionService.isClusterSafe)
 *   members  -&gt;  MEMBERS &lt;n&gt;            (members this member sees in the cluster)
 *   exit, or EOF on stdin  -&gt;  the member terminates and its JVM exits
 *   anything else          -&gt;  ERROR &lt;what was wrong&gt;
 * </pre>
 */
final class MemberProtocol {
    /** The ready line, followed by the member's address. */
    static final String READY = "READY hazelcast ";

    static final String STATS = "stats";
    static final String STATS_REPLY = "STATS ";
    static final String SAFE = "safe";
    static final String SAFE_REPLY = "SAFE ";
    static final String MEMBERS = "members";
    static final String MEMBERS_REPLY = "MEMBERS ";
    static final String EXIT = "exit";
    static final String ERROR_REPLY = "ERROR ";

    private MemberProtocol() {
    }
}
