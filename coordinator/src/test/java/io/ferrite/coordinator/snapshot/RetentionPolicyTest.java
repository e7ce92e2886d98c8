package io.ferrite.coordinator.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.ferrite.coordinator.snapshot.RetentionPolicy.Taken;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The time machine's retention, driven by a hand-moved clock. */
class RetentionPolicyTest {
    private static final Instant START = Instant.parse("2026-01-01T00:07:00Z");

    /**
     * Autosave every 10 minutes for 70 days, the policy applied after each: at every step the
     * kept set is one per hour for the last day, one per day for the last month, one per week
     * before; the newest is always kept; and nothing dropped is ever wanted again.
     */
    @Test
    void keepsHourlyThenDailyThenWeeklyAndNeverWantsBackWhatItDropped() {
        List<Taken> kept = new ArrayList<>();
        Set<Long> dropped = new HashSet<>();
        long id = 0;
        Instant now = START;
        for (int step = 0; step < 70 * 24 * 6; step++) {
            kept.add(new Taken(++id, now));
            Set<Long> drop = RetentionPolicy.toDrop(kept, now, 0, 0);
            assertThat(drop).as("step %d: never the newest", step).doesNotContain(id);
            kept.removeIf(s -> drop.contains(s.id()));
            dropped.addAll(drop);
            if (step % 97 == 0 || step == 70 * 24 * 6 - 1) {
                check(kept, now);
            }
            now = now.plus(Duration.ofMinutes(10));
        }
        // 24 or 25 hourly, about 30 daily, then one per week of the remaining ~39 days.
        assertThat(kept.size()).isBetween(24 + 29 + 5, 25 + 31 + 7);
        assertThat(kept).extracting(Taken::id).doesNotContainAnyElementsOf(dropped);
    }

    private static void check(List<Taken> kept, Instant now) {
        Set<String> seen = new HashSet<>();
        for (Taken s : kept) {
            Duration age = Duration.between(s.createdAt(), now);
            long at = s.createdAt().toEpochMilli();
            String period = age.compareTo(RetentionPolicy.HOURLY) <= 0 ? "h" + at / 3_600_000L
                    : age.compareTo(RetentionPolicy.DAILY) <= 0 ? "d" + at / 86_400_000L : "w" + at / 604_800_000L;
            assertThat(seen.add(period)).as("at %s two snapshots kept in period %s: %s", now, period, kept).isTrue();
        }
        // Every hour of the last day with a snapshot taken in it keeps one (autosave ran every 10 min).
        Set<Long> hours = kept.stream().filter(s -> Duration.between(s.createdAt(), now).toHours() < 23)
                .map(s -> s.createdAt().toEpochMilli() / 3_600_000L).collect(Collectors.toSet());
        long hoursSinceStart = Duration.between(START, now).toHours();
        assertThat(hours.size()).as("hours kept at %s", now).isGreaterThanOrEqualTo((int) Math.min(22, hoursSinceStart));
    }

    @Test
    void overBudgetTheOldestKeptGoesOnePerDecisionButNeverTheNewest() {
        Instant now = START.plus(Duration.ofDays(3));
        List<Taken> snapshots = List.of(new Taken(1, START), new Taken(2, START.plus(Duration.ofDays(1))),
                new Taken(3, START.plus(Duration.ofDays(2))), new Taken(4, now.minus(Duration.ofMinutes(5))));
        assertThat(RetentionPolicy.toDrop(snapshots, now, 100, 1_000)).isEmpty();
        assertThat(RetentionPolicy.toDrop(snapshots, now, 5_000, 1_000)).containsExactly(1L);
        assertThat(RetentionPolicy.toDrop(snapshots.subList(3, 4), now, 5_000, 1_000)).isEmpty();
        assertThat(RetentionPolicy.toDrop(snapshots, now, 5_000, 0)).as("no budget").isEmpty();
    }

    @Test
    void withinOnePeriodTheNewestStays() {
        Instant now = START.plus(Duration.ofMinutes(50));
        List<Taken> sameHour = List.of(new Taken(1, START), new Taken(2, START.plus(Duration.ofMinutes(20))),
                new Taken(3, START.plus(Duration.ofMinutes(40))));
        assertThat(RetentionPolicy.toDrop(sameHour, now, 0, 0)).containsExactlyInAnyOrder(1L, 2L);
        assertThat(RetentionPolicy.toDrop(List.of(), now, 10, 1)).isEmpty();
    }
}
