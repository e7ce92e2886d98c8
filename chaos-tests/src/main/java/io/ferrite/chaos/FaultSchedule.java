package io.ferrite.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The seeded order of faults and how long each is held: the smoke takes every kind once in a
 * shuffled order; a timed run draws kinds at random until its duration is spent. Holds are drawn
 * between the settings' bounds; the master cut from ZooKeeper is held past the servers' 10 s
 * session timeout every other time (a ZooKeeper outage longer than the session).
 */
final class FaultSchedule {
    private final Random random;
    private final ChaosSettings settings;
    private final List<FaultKind> smokeOrder;
    private int drawn;

    FaultSchedule(ChaosSettings settings) {
        this.settings = settings;
        this.random = new Random(settings.seed());
        List<FaultKind> order = new ArrayList<>(settings.faults());
        Collections.shuffle(order, random);
        this.smokeOrder = order;
    }

    /** The next fault, or null when the smoke has injected every kind. */
    Planned next() {
        FaultKind kind;
        if (settings.smoke()) {
            if (drawn >= smokeOrder.size()) {
                return null;
            }
            kind = smokeOrder.get(drawn);
        } else {
            kind = settings.faults().get(random.nextInt(settings.faults().size()));
        }
        drawn++;
        long min = settings.holdMin().toMillis();
        long max = settings.holdMax().toMillis();
        long hold = min + (long) (random.nextDouble() * (max - min));
        if (kind == FaultKind.PARTITION_MASTER_ZK && (drawn % 2 == 0 || settings.smoke())) {
            hold = Math.max(hold, 12_000);
        }
        return new Planned(kind, Duration.ofMillis(hold), new Random(random.nextLong()));
    }

    /** One fault to inject: its kind, its hold, and the random its targets are drawn with. */
    record Planned(FaultKind kind, Duration hold, Random targets) {
    }
}
