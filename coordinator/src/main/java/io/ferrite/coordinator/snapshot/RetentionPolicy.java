package io.ferrite.coordinator.snapshot;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which automatic snapshots of a table to keep: a time machine. A pure function of the
 * snapshots, the time and the memory they pin, so it is tested with a hand-moved clock.
 *
 * <ul>
 *   <li>the newest snapshot is always kept;</li>
 *   <li>of those taken in the last {@link #HOURLY}: the newest of each hour;</li>
 *   <li>of those taken in the last {@link #DAILY}: the newest of each day;</li>
 *   <li>older: the newest of each week;</li>
 *   <li>while the memory the table's snapshots pin is over the budget, the oldest kept one is
 *       dropped too (one per decision: what dropping it gives back is known only once the
 *       masters have released it, so the next decision sees the new figure).</li>
 * </ul>
 *
 * Hours, days and weeks are counted from the Unix epoch (UTC). Taking the newest of each
 * period makes the choice stable: a snapshot kept as the newest of its day is also the newest
 * of its hour, and stays the newest of its week, so a snapshot dropped once would never be
 * wanted again.
 */
public final class RetentionPolicy {
    /** Up to this age, one snapshot per hour. */
    public static final Duration HOURLY = Duration.ofHours(24);
    /** Up to this age, one per day; beyond it, one per week. */
    public static final Duration DAILY = Duration.ofDays(31);
    private static final long HOUR_MS = Duration.ofHours(1).toMillis();
    private static final long DAY_MS = Duration.ofDays(1).toMillis();
    private static final long WEEK_MS = Duration.ofDays(7).toMillis();

    /** A snapshot as the policy sees it. */
    public record Taken(long id, Instant createdAt) {
    }

    private RetentionPolicy() {
    }

    /**
     * @param snapshots    the table's automatic snapshots
     * @param now          the time now
     * @param pinnedBytes  memory the table's snapshots pin on its masters now
     * @param budgetBytes  the most they may pin (0 or less: no budget)
     * @return the ids to drop
     */
    public static Set<Long> toDrop(List<Taken> snapshots, Instant now, long pinnedBytes, long budgetBytes) {
        List<Taken> newestFirst = new ArrayList<>(snapshots);
        newestFirst.sort(Comparator.comparing(Taken::createdAt).thenComparingLong(Taken::id).reversed());
        Set<Long> drop = new HashSet<>();
        Set<String> periodsTaken = new HashSet<>();
        List<Taken> kept = new ArrayList<>();
        for (int i = 0; i < newestFirst.size(); i++) {
            Taken s = newestFirst.get(i);
            if (i == 0) {
                kept.add(s);
                periodsTaken.add(period(s, now));
                continue;
            }
            if (periodsTaken.add(period(s, now))) {
                kept.add(s);
            } else {
                drop.add(s.id());
            }
        }
        if (budgetBytes > 0 && pinnedBytes > budgetBytes && kept.size() > 1) {
            drop.add(kept.getLast().id());
        }
        return drop;
    }

    /** The period a snapshot falls in for its age: its hour, day or week since the epoch. */
    private static String period(Taken s, Instant now) {
        Duration age = Duration.between(s.createdAt(), now);
        long at = s.createdAt().toEpochMilli();
        if (age.compareTo(HOURLY) <= 0) {
            return "h" + Math.floorDiv(at, HOUR_MS);
        }
        if (age.compareTo(DAILY) <= 0) {
            return "d" + Math.floorDiv(at, DAY_MS);
        }
        return "w" + Math.floorDiv(at, WEEK_MS);
    }
}
