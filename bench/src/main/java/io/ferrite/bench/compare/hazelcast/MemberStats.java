package io.ferrite.bench.compare.hazelcast;

import java.util.HashMap;
import java.util.Map;

/**
 * One member's account of its memory after a GC: heap used, and the {@code usertable} entries it
 * owns (primaries) and backs up, with their memory cost as Hazelcast reports it
 * ({@code LocalMapStats}).
 *
 * @param heapUsed              heap bytes in use after {@code System.gc()}
 * @param ownedEntries          primary entries on this member
 * @param ownedEntryMemoryCost  bytes Hazelcast accounts to those entries
 * @param backupEntries         backup entries on this member
 * @param backupEntryMemoryCost bytes Hazelcast accounts to those entries
 */
record MemberStats(long heapUsed, long ownedEntries, long ownedEntryMemoryCost, long backupEntries,
                   long backupEntryMemoryCost) {

    /** The {@code STATS} reply line. */
    String toLine() {
        return MemberProtocol.STATS_REPLY + "heapUsed=" + heapUsed + " ownedEntries=" + ownedEntries
                + " ownedEntryMemoryCost=" + ownedEntryMemoryCost + " backupEntries=" + backupEntries
                + " backupEntryMemoryCost=" + backupEntryMemoryCost;
    }

    /**
     * Parses a {@code STATS} reply line.
     *
     * @throws IllegalArgumentException if the line is not one {@link #toLine()} wrote
     */
    static MemberStats parse(String line) {
        if (!line.startsWith(MemberProtocol.STATS_REPLY)) {
            throw new IllegalArgumentException("not a STATS line: " + line);
        }
        Map<String, Long> values = new HashMap<>();
        for (String pair : line.substring(MemberProtocol.STATS_REPLY.length()).trim().split(" ")) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("bad field '" + pair + "' in STATS line: " + line);
            }
            values.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
        }
        return new MemberStats(field(values, "heapUsed", line), field(values, "ownedEntries", line),
                field(values, "ownedEntryMemoryCost", line), field(values, "backupEntries", line),
                field(values, "backupEntryMemoryCost", line));
    }

    private static long field(Map<String, Long> values, String name, String line) {
        Long value = values.get(name);
        if (value == null) {
            throw new IllegalArgumentException("no " + name + " in STATS line: " + line);
        }
        return value;
    }
}
