package io.ferrite.chaos.history;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The record of a chaos run: every operation's invocation and completion, and the faults injected,
 * on one clock (nanoseconds since the history was created).
 *
 * <p>Thread-safe. A workload thread calls {@link #invoke(int, Op)} just before sending a request,
 * then exactly one of {@link #ok(long, Result)} (a result, including a refusal),
 * {@link #fail(long, String)} (definitely not applied: never sent, or an error proving nothing
 * changed) or {@link #info(long, String)} (outcome unknown: timeout, connection lost mid-call).
 * An operation left without completion is treated as {@code info}. Each call appends one event
 * under a short lock.
 *
 * <pre>{@code
 * long id = history.invoke(3, Op.write("k7", "p3-w1234"));
 * try {
 *     history.ok(id, Result.written(table.write("k7", "p3-w1234")));
 * } catch (TimeoutException e) {
 *     history.info(id, "timeout");
 * }
 * }</pre>
 *
 * <p>The fault injector records faults with {@link #faultInjected(String)} and
 * {@link #faultHealed(int)}, or supplies them to the checkers separately using {@link #nowNs()}.
 * {@link HistoryFile} saves and loads the whole history as JSON lines.
 */
public final class History {

    private final LongSupplier clockNs;
    private final long startNs;
    private final AtomicLong nextId = new AtomicLong();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final List<Event> events = new ArrayList<>();
    private final List<Fault> faults = new ArrayList<>();

    /** A history on {@link System#nanoTime()}, starting now. */
    public History() {
        this(System::nanoTime);
    }

    /**
     * A history on the given clock, starting now.
     *
     * @param clockNs a monotonic nanosecond clock
     */
    public History(LongSupplier clockNs) {
        this.clockNs = Objects.requireNonNull(clockNs, "clockNs");
        this.startNs = clockNs.getAsLong();
    }

    /**
     * A history holding the given events and faults, e.g. read back from a file.
     *
     * @param events events, in any order
     * @param faults faults
     * @return the history
     */
    public static History of(List<Event> events, List<Fault> faults) {
        final History h = new History(() -> 0L);
        final List<Event> sorted = new ArrayList<>(events);
        sorted.sort(Comparator.comparingLong(Event::timeNs));
        long maxId = -1;
        for (Event e : sorted) {
            maxId = Math.max(maxId, e.id());
        }
        h.events.addAll(sorted);
        h.faults.addAll(faults);
        h.nextId.set(maxId + 1);
        return h;
    }

    /**
     * The current time on this history's clock.
     *
     * @return nanoseconds since the history started
     */
    public long nowNs() {
        return clockNs.getAsLong() - startNs;
    }

    /**
     * Records that {@code process} is invoking {@code op}.
     *
     * @param process the workload process or thread number
     * @param op      the operation
     * @return the operation's id, for its completion
     */
    public long invoke(int process, Op op) {
        Objects.requireNonNull(op, "op");
        final long id = nextId.getAndIncrement();
        pending.put(id, new Pending(process, op));
        append(id, process, Event.Type.INVOKE, op, null, null);
        return id;
    }

    /**
     * Records that the operation completed with {@code result}.
     *
     * @param id     the id from {@link #invoke(int, Op)}
     * @param result the answer, of a shape the operation accepts ({@link Op#accepts(Result)})
     * @throws IllegalStateException    if the id is unknown or already completed
     * @throws IllegalArgumentException if the result does not fit the operation
     */
    public void ok(long id, Result result) {
        Objects.requireNonNull(result, "result");
        final Pending p = pending.get(id);
        if (p != null && !p.op.accepts(result)) {
            throw new IllegalArgumentException("result " + result + " does not fit " + p.op);
        }
        append(id, complete(id), Event.Type.OK, null, result, null);
    }

    /**
     * Records that the operation was definitely not applied.
     *
     * @param id     the id
     * @param reason why, for humans
     */
    public void fail(long id, String reason) {
        append(id, complete(id), Event.Type.FAIL, null, null, Objects.toString(reason));
    }

    /**
     * Records that the operation's outcome is unknown.
     *
     * @param id     the id
     * @param reason why, for humans
     */
    public void info(long id, String reason) {
        append(id, complete(id), Event.Type.INFO, null, null, Objects.toString(reason));
    }

    /**
     * Records a fault injected now.
     *
     * @param kind the kind of fault
     * @return the fault's number, for {@link #faultHealed(int)}
     */
    public int faultInjected(String kind) {
        synchronized (faults) {
            faults.add(new Fault(kind, nowNs(), Fault.NOT_HEALED));
            return faults.size() - 1;
        }
    }

    /**
     * Records that a fault was healed now.
     *
     * @param fault the number {@link #faultInjected(String)} returned
     */
    public void faultHealed(int fault) {
        synchronized (faults) {
            final Fault f = faults.get(fault);
            faults.set(fault, new Fault(f.kind(), f.injectedAtNs(), nowNs()));
        }
    }

    /**
     * A snapshot of the events so far, in time order.
     *
     * @return the events
     */
    public List<Event> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    /**
     * A snapshot of the faults so far, in order of injection.
     *
     * @return the faults
     */
    public List<Fault> faults() {
        synchronized (faults) {
            return List.copyOf(faults);
        }
    }

    /**
     * The operations so far, invokes paired with completions, in invoke order. An operation not
     * completed yet is {@link Operation.Status#INFO} with completion {@link Operation#NEVER}.
     *
     * @return the operations
     */
    public List<Operation> operations() {
        final List<Event> snapshot = events();
        final Map<Long, Event> completions = new HashMap<>();
        for (Event e : snapshot) {
            if (e.type() != Event.Type.INVOKE) {
                completions.put(e.id(), e);
            }
        }
        final List<Operation> ops = new ArrayList<>();
        for (Event e : snapshot) {
            if (e.type() != Event.Type.INVOKE) {
                continue;
            }
            final Event c = completions.get(e.id());
            if (c == null) {
                ops.add(new Operation(e.id(), e.process(), e.op(), e.timeNs(), Operation.NEVER,
                        Operation.Status.INFO, null, "never completed"));
            } else {
                final Operation.Status status = switch (c.type()) {
                    case OK -> Operation.Status.OK;
                    case FAIL -> Operation.Status.FAIL;
                    default -> Operation.Status.INFO;
                };
                ops.add(new Operation(e.id(), e.process(), e.op(), e.timeNs(), c.timeNs(), status, c.result(),
                        c.reason()));
            }
        }
        ops.sort(Comparator.comparingLong(Operation::invokeNs));
        return ops;
    }

    private int complete(long id) {
        final Pending p = pending.remove(id);
        if (p == null) {
            throw new IllegalStateException("operation " + id + " unknown or already completed");
        }
        return p.process;
    }

    /** Reads the clock under the lock, so the event list is in time order. */
    private void append(long id, int process, Event.Type type, Op op, Result result, String reason) {
        synchronized (events) {
            events.add(new Event(id, process, type, nowNs(), op, result, reason));
        }
    }

    private record Pending(int process, Op op) {
    }
}
