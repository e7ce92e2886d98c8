package io.ferrite.coordinator.registry;

import io.ferrite.coordinator.table.HashRange;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What ZooKeeper says one server owns ({@link ServerRegistry#ownedTablets}): a master that
 * rejoins after losing its session keeps a table's data only where this confirms it, and drops
 * data only where this is unambiguous (issue 9, I5 and I6).
 *
 * @param ranges        per table id, the hash ranges of NORMAL tablets naming the server as owner
 * @param tables        ids of every table whose record decoded
 * @param unclear       tables with a tablet that did not decode: their ownership is unknown
 * @param unknownTables whether some table record did not decode (its id is unknown, so a table
 *                      missing from {@code tables} may still exist)
 */
public record OwnedTablets(Map<Long, List<HashRange>> ranges, Set<Long> tables, Set<Long> unclear,
                           boolean unknownTables) {
    public OwnedTablets {
        ranges = Map.copyOf(ranges);
        tables = Set.copyOf(tables);
        unclear = Set.copyOf(unclear);
    }

    /** What to do with a table the server holds. */
    public enum Verdict {
        /** The table exists and its owned ranges are known: keep those ({@link #ranges(long)}). */
        KEEP_OWNED,
        /** The table is gone (dropped): drop its data. */
        DROP,
        /** Malformed metadata leaves it open: keep everything as it is. */
        UNSURE
    }

    public Verdict verdict(long tableId) {
        if (unclear.contains(tableId)) {
            return Verdict.UNSURE;
        }
        if (tables.contains(tableId)) {
            return Verdict.KEEP_OWNED;
        }
        return unknownTables ? Verdict.UNSURE : Verdict.DROP;
    }

    /** The table's ranges owned by the server (empty if none). */
    public List<HashRange> ranges(long tableId) {
        return ranges.getOrDefault(tableId, List.of());
    }
}
