package io.ferrite.chaos.history;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Records histories of concurrent processes running against a correct in-memory store: each
 * operation takes effect atomically at a random moment between its invoke and its completion
 * (an unknown-outcome one possibly later, or never; a failed one never). Every history it makes is
 * linearizable by construction.
 */
final class SimulatedWorkload {
    /** Time between simulation steps; leaves room to insert operations between steps. */
    static final long STEP_NS = 10;

    private final Random rnd;
    private final int processes;
    private final int registerKeys;
    private final int counterKeys;
    private final double infoRate;
    private final double failRate;
    private final AtomicLong clock = new AtomicLong();
    final History history = new History(clock::get);

    private final Map<String, Result.Found> registers = new HashMap<>();
    private final Map<String, Long> counters = new HashMap<>();
    private final Map<String, Long> lastVersion = new HashMap<>();
    private final List<Pending> delayed = new ArrayList<>();
    private long writes;

    private enum Fate { OK, INFO, FAIL }

    private static final class Pending {
        final long id;
        final Op op;
        final Fate fate;
        boolean decided;
        Result result;

        Pending(long id, Op op, Fate fate) {
            this.id = id;
            this.op = op;
            this.fate = fate;
        }
    }

    SimulatedWorkload(long seed, int processes, int registerKeys, int counterKeys, double infoRate, double failRate) {
        this.rnd = new Random(seed);
        this.processes = processes;
        this.registerKeys = registerKeys;
        this.counterKeys = counterKeys;
        this.infoRate = infoRate;
        this.failRate = failRate;
    }

    /** Runs {@code operations} operations to completion. */
    SimulatedWorkload run(int operations) {
        final Pending[] pending = new Pending[processes];
        int invoked = 0;
        int open = 0;
        while (invoked < operations || open > 0) {
            clock.addAndGet(STEP_NS);
            if (!delayed.isEmpty() && rnd.nextInt(8) == 0) {
                apply(delayed.remove(rnd.nextInt(delayed.size())).op);
            }
            final int p = rnd.nextInt(processes);
            final Pending cur = pending[p];
            if (cur == null) {
                if (invoked < operations) {
                    final Op op = nextOp(p);
                    final double f = rnd.nextDouble();
                    final Fate fate = f < failRate ? Fate.FAIL : f < failRate + infoRate ? Fate.INFO : Fate.OK;
                    pending[p] = new Pending(history.invoke(p, op), op, fate);
                    invoked++;
                    open++;
                }
            } else if (!cur.decided) {
                cur.decided = true;
                if (cur.fate == Fate.OK || cur.fate == Fate.INFO && rnd.nextBoolean()) {
                    cur.result = apply(cur.op);
                } else if (cur.fate == Fate.INFO && rnd.nextBoolean()) {
                    delayed.add(cur);
                }
            } else {
                switch (cur.fate) {
                    case OK -> history.ok(cur.id, cur.result);
                    case INFO -> history.info(cur.id, "timeout");
                    case FAIL -> history.fail(cur.id, "not sent");
                }
                pending[p] = null;
                open--;
            }
        }
        return this;
    }

    private Op nextOp(int p) {
        final String r = "r" + rnd.nextInt(registerKeys);
        final int kind = rnd.nextInt(counterKeys > 0 ? 9 : 7);
        return switch (kind) {
            case 0, 1 -> Op.read(r);
            case 2, 3 -> Op.write(r, value(p));
            case 4 -> {
                final Result.Found cur = registers.get(r);
                final long expected = cur == null ? 1 : rnd.nextInt(4) == 0 ? cur.version() - 1 : cur.version();
                yield Op.cas(r, expected, value(p));
            }
            case 5 -> {
                final String other = "r" + rnd.nextInt(registerKeys);
                yield other.equals(r) ? Op.read(r) : Op.multiWrite(List.of(r, other), List.of(value(p), value(p)));
            }
            case 6 -> {
                final String other = "r" + rnd.nextInt(registerKeys);
                yield other.equals(r) ? Op.read(r) : Op.multiRead(List.of(r, other));
            }
            case 7 -> Op.incr("c" + rnd.nextInt(counterKeys), 1 + rnd.nextInt(5));
            default -> Op.read("c" + rnd.nextInt(counterKeys));
        };
    }

    private String value(int p) {
        return "p" + p + "-w" + writes++;
    }

    /** Applies an operation to the store atomically, returning its result. */
    private Result apply(Op op) {
        return switch (op) {
            case Op.Read r -> r.key().startsWith("c") ? Result.counter(counters.getOrDefault(r.key(), 0L))
                    : registers.containsKey(r.key()) ? registers.get(r.key()) : Result.absent();
            case Op.Write w -> install(w.key(), w.value());
            case Op.Cas c -> {
                final Result.Found cur = registers.get(c.key());
                if (cur == null) {
                    yield Result.refusedNotFound();
                }
                if (cur.version() != c.expectedVersion()) {
                    yield Result.refusedWrongVersion(rnd.nextBoolean() ? cur.version() : 0);
                }
                yield install(c.key(), c.value());
            }
            case Op.Incr i -> {
                final long v = counters.getOrDefault(i.key(), 0L) + i.delta();
                counters.put(i.key(), v);
                yield Result.counter(v);
            }
            case Op.MultiWrite m -> Result.multi(m.items().stream().map(this::apply).toList());
            case Op.MultiRead m -> Result.multi(m.keys().stream().map(k -> apply(Op.read(k))).toList());
        };
    }

    private Result install(String key, String value) {
        final long v = lastVersion.getOrDefault(key, 0L) + 1 + rnd.nextInt(3);
        lastVersion.put(key, v);
        registers.put(key, new Result.Found(value, v));
        return Result.written(v);
    }

    /** The store's state now (after {@link #run}, delayed unknown operations may still be pending). */
    FinalState finalState() {
        return new FinalState(new HashMap<>(registers), new HashMap<>(counters));
    }

    int processes() {
        return processes;
    }
}
