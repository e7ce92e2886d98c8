package io.ferrite.chaos.history;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One operation's effect on one key: a single-key operation, or one item of a multi-operation
 * (sharing the call's times). Definitely failed operations have none.
 *
 * @param id         the operation's id
 * @param process    its process
 * @param item       the item within a multi-operation, or -1
 * @param key        the key
 * @param kind       what it does to the key
 * @param value      the value written ({@link Kind#WRITE}, {@link Kind#CAS}), else null
 * @param expected   the expected version ({@link Kind#CAS})
 * @param delta      the increment ({@link Kind#INCR})
 * @param invokeNs   invoke time
 * @param completeNs completion time, {@link Operation#NEVER} if unknown outcome
 * @param known      true if the result is known ({@code ok}); false for {@code info}
 * @param result     the single-key result when known, else null
 */
record KeyOp(long id, int process, int item, String key, Kind kind, String value, long expected, long delta,
             long invokeNs, long completeNs, boolean known, Result result) {

    enum Kind { READ, WRITE, CAS, INCR }

    /**
     * Splits operations into per-key sub-operations, dropping failed ones and reads with unknown
     * outcome (they constrain nothing).
     */
    static Map<String, List<KeyOp>> byKey(List<Operation> operations) {
        final Map<String, List<KeyOp>> out = new TreeMap<>();
        for (Operation o : operations) {
            if (o.status() == Operation.Status.FAIL) {
                continue;
            }
            final boolean known = o.status() == Operation.Status.OK;
            final long complete = known ? o.completeNs() : Operation.NEVER;
            final List<Op> items = switch (o.op()) {
                case Op.MultiWrite m -> m.items();
                case Op.MultiRead m -> m.keys().stream().<Op>map(Op.Read::new).toList();
                default -> List.of(o.op());
            };
            final boolean multi = o.op() instanceof Op.MultiWrite || o.op() instanceof Op.MultiRead;
            for (int i = 0; i < items.size(); i++) {
                final Result r = !known ? null : multi ? ((Result.Multi) o.result()).results().get(i) : o.result();
                final KeyOp k = of(o, multi ? i : -1, items.get(i), o.invokeNs(), complete, known, r);
                if (k.kind != Kind.READ || known) {
                    out.computeIfAbsent(k.key, x -> new ArrayList<>()).add(k);
                }
            }
        }
        return out;
    }

    private static KeyOp of(Operation o, int item, Op op, long invokeNs, long completeNs, boolean known, Result r) {
        return switch (op) {
            case Op.Read x -> new KeyOp(o.id(), o.process(), item, x.key(), Kind.READ, null, 0, 0, invokeNs,
                    completeNs, known, r);
            case Op.Write x -> new KeyOp(o.id(), o.process(), item, x.key(), Kind.WRITE, x.value(), 0, 0, invokeNs,
                    completeNs, known, r);
            case Op.Cas x -> new KeyOp(o.id(), o.process(), item, x.key(), Kind.CAS, x.value(), x.expectedVersion(),
                    0, invokeNs, completeNs, known, r);
            case Op.Incr x -> new KeyOp(o.id(), o.process(), item, x.key(), Kind.INCR, null, 0, x.delta(), invokeNs,
                    completeNs, known, r);
            default -> throw new IllegalArgumentException("not a single-key op: " + op);
        };
    }

    /** Whether this sub-operation marks its key as a counter. */
    boolean counterLike() {
        return kind == Kind.INCR || result instanceof Result.CounterValue;
    }

    /** Whether this sub-operation marks its key as a register. */
    boolean registerLike() {
        return kind == Kind.WRITE || kind == Kind.CAS || result instanceof Result.Found;
    }

    /** One line for humans: process, id, times in ms, operation and result. */
    String describe() {
        final StringBuilder b = new StringBuilder();
        b.append("p").append(process).append(" #").append(id);
        if (item >= 0) {
            b.append('[').append(item).append(']');
        }
        b.append(" [").append(ms(invokeNs)).append(" .. ")
                .append(completeNs == Operation.NEVER ? "?" : ms(completeNs)).append(" ms] ");
        b.append(switch (kind) {
            case READ -> "read";
            case WRITE -> "write \"" + value + "\"";
            case CAS -> "cas if v" + expected + " \"" + value + "\"";
            case INCR -> "incr " + delta;
        });
        b.append(" -> ").append(known ? describe(result) : "unknown (info)");
        return b.toString();
    }

    static String describe(Result r) {
        return switch (r) {
            case Result.Written w -> "written v" + w.version();
            case Result.Found f -> "\"" + f.value() + "\" v" + f.version();
            case Result.Absent a -> "absent";
            case Result.Refused x -> "refused " + x.reason()
                    + (x.currentVersion() != 0 ? " (current v" + x.currentVersion() + ")" : "");
            case Result.CounterValue c -> Long.toString(c.value());
            case Result.Multi m -> m.toString();
        };
    }

    static String ms(long ns) {
        return String.format(java.util.Locale.ROOT, "%.3f", ns / 1e6);
    }
}
