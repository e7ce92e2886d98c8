package io.ferrite.client.routing;

import io.ferrite.client.TableNotFoundException;
import io.ferrite.proto.v1.Status;

import java.util.concurrent.CompletableFuture;

/**
 * The cached tablet map of one table, bound to the table's id. Refreshes are coalesced: a
 * caller passes the map its failed attempt used, and if the cache already holds a newer one
 * it gets that at once; otherwise it shares the one fetch in flight.
 */
public final class TabletMapCache {
    private final CoordinatorClient coordinator;
    private final String name;
    private final long tableId;
    private volatile TabletMap current;
    private volatile boolean gone;
    private CompletableFuture<TabletMap> inFlight;

    /**
     * Creates a cache holding a first map.
     *
     * @param coordinator fetches maps
     * @param first       the map fetched when the table was opened
     */
    public TabletMapCache(CoordinatorClient coordinator, TabletMap first) {
        this.coordinator = coordinator;
        this.name = first.name();
        this.tableId = first.tableId();
        this.current = first;
    }

    /**
     * Fetches a table's map by name.
     *
     * @param coordinator the coordinator client
     * @param name        the table's name
     * @return the map, or a {@link TableNotFoundException}
     */
    public static CompletableFuture<TabletMap> fetch(CoordinatorClient coordinator, String name) {
        return coordinator.getTabletMap(name, 0).thenApply(r -> toMap(r, name));
    }

    private static TabletMap toMap(io.ferrite.proto.v1.GetTabletMapResponse response, String name) {
        if (response.getStatus() == Status.TABLE_DOESNT_EXIST) {
            throw new TableNotFoundException("table " + name + " does not exist");
        }
        if (response.getStatus() != Status.OK) {
            throw new io.ferrite.client.FerriteException("tablet map of " + name + ": " + response.getStatus()
                    + " " + response.getMessage());
        }
        return TabletMap.of(response);
    }

    /**
     * The current map.
     *
     * @return the cached map
     */
    public TabletMap current() {
        return current;
    }

    /**
     * Whether a refresh found that the table no longer exists.
     *
     * @return true once the coordinator said TABLE_DOESNT_EXIST for this table's id
     */
    public boolean isGone() {
        return gone;
    }

    private static boolean isTableGone(Throwable failure) {
        return failure instanceof TableNotFoundException;
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
     * A map newer than {@code stale}: the cached one if it already is, else the result of a
     * (shared) fetch.
     *
     * @param stale the map a failed attempt used
     * @return a newer map, or a {@link TableNotFoundException} if the table is gone
     */
    public CompletableFuture<TabletMap> refresh(TabletMap stale) {
        CompletableFuture<TabletMap> fetch;
        synchronized (this) {
            TabletMap now = current;
            if (now != stale) {
                return CompletableFuture.completedFuture(now);
            }
            if (inFlight != null) {
                return inFlight;
            }
            fetch = new CompletableFuture<>();
            inFlight = fetch;
        }
        coordinator.getTabletMap(name, tableId).whenComplete((response, error) -> {
            TabletMap map = null;
            Throwable failure = error;
            if (failure == null) {
                try {
                    map = toMap(response, name);
                } catch (RuntimeException e) {
                    failure = e;
                }
            }
            if (isTableGone(failure)) {
                gone = true;
            }
            synchronized (this) {
                inFlight = null;
                if (map != null) {
                    current = map;
                }
            }
            if (map != null) {
                fetch.complete(map);
            } else {
                fetch.completeExceptionally(failure);
            }
        });
        return fetch;
    }
}
