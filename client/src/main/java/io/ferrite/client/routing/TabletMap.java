package io.ferrite.client.routing;

import io.ferrite.proto.v1.GetTabletMapResponse;
import io.ferrite.proto.v1.Tablet;
import io.ferrite.proto.v1.TabletState;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of one table's tablets, sorted by unsigned start hash, for routing a
 * key hash to its owner with a binary search. A new fetch gives a new object, so identity
 * tells whether a cached map is the one a failed attempt used.
 */
public final class TabletMap {
    private final long tableId;
    private final String name;
    private final long[] startHashes;
    private final long[] endHashes;
    private final long[] owners;
    private final String[] addresses;
    private final boolean[] recovering;

    private TabletMap(long tableId, String name, List<Tablet> sorted) {
        this.tableId = tableId;
        this.name = name;
        int n = sorted.size();
        startHashes = new long[n];
        endHashes = new long[n];
        owners = new long[n];
        addresses = new String[n];
        recovering = new boolean[n];
        for (int i = 0; i < n; i++) {
            Tablet t = sorted.get(i);
            startHashes[i] = t.getStartHash();
            endHashes[i] = t.getEndHash();
            owners[i] = t.getOwnerId();
            addresses[i] = t.getOwnerAddress();
            recovering[i] = t.getState() != TabletState.NORMAL;
        }
    }

    /**
     * Builds a map from the coordinator's answer.
     *
     * @param response an OK {@code GetTabletMap} answer
     * @return the map
     */
    public static TabletMap of(GetTabletMapResponse response) {
        List<Tablet> sorted = new ArrayList<>(response.getTabletsList());
        sorted.sort(Comparator.comparing(Tablet::getStartHash, Long::compareUnsigned));
        return new TabletMap(response.getTableId(), response.getName(), sorted);
    }

    /**
     * The table's id.
     *
     * @return the id
     */
    public long tableId() {
        return tableId;
    }

    /**
     * The table's name.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * The number of tablets.
     *
     * @return tablets
     */
    public int size() {
        return startHashes.length;
    }

    /**
     * The tablet whose unsigned [start, end] contains a hash.
     *
     * @param hash a key hash
     * @return its index, or -1 if no tablet covers it
     */
    public int find(long hash) {
        int lo = 0;
        int hi = startHashes.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(startHashes[mid], hash) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found >= 0 && Long.compareUnsigned(hash, endHashes[found]) <= 0 ? found : -1;
    }

    /**
     * The owner's data address of a tablet.
     *
     * @param index a tablet index
     * @return host:port
     */
    public String address(int index) {
        return addresses[index];
    }

    /**
     * The owner's server id of a tablet.
     *
     * @param index a tablet index
     * @return server id
     */
    public long owner(int index) {
        return owners[index];
    }

    /**
     * Whether a tablet is being recovered (or otherwise not served yet).
     *
     * @param index a tablet index
     * @return true unless NORMAL
     */
    public boolean isRecovering(int index) {
        return recovering[index];
    }

    /**
     * The distinct owners, in the order of their first tablet's start hash, with their
     * current addresses.
     *
     * @return owner id to address
     */
    public Map<Long, String> ownersInHashOrder() {
        Map<Long, String> result = new LinkedHashMap<>();
        for (int i = 0; i < owners.length; i++) {
            result.putIfAbsent(owners[i], addresses[i]);
        }
        return result;
    }

    /**
     * Whether every tablet of an owner is NORMAL.
     *
     * @param owner a server id
     * @return false if one of its tablets is recovering
     */
    public boolean ownerServing(long owner) {
        for (int i = 0; i < owners.length; i++) {
            if (owners[i] == owner && recovering[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether another map splits the table into the same tablets with the same owners
     * (addresses and states may differ).
     *
     * @param other another map of the same table
     * @return true if ownership is unchanged
     */
    public boolean sameOwnership(TabletMap other) {
        return tableId == other.tableId && java.util.Arrays.equals(startHashes, other.startHashes)
                && java.util.Arrays.equals(endHashes, other.endHashes)
                && java.util.Arrays.equals(owners, other.owners);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("TabletMap[").append(name).append('#').append(tableId);
        for (int i = 0; i < startHashes.length; i++) {
            b.append(", ").append(Long.toUnsignedString(startHashes[i], 16)).append('-')
                    .append(Long.toUnsignedString(endHashes[i], 16)).append('@').append(addresses[i]);
            if (recovering[i]) {
                b.append("(recovering)");
            }
        }
        return b.append(']').toString();
    }
}
