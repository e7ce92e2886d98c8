package io.ferrite.chaos.history;

/**
 * A register key with server-assigned versions. The state is absent, or a value with a version
 * that is either known, or unknown but at least some bound: a write whose outcome is unknown
 * ({@code info}) installs its value with a version known only to exceed the previous one. A later
 * read, or a CAS that succeeded or was refused with a reported version, pins it.
 *
 * <p>Transitions, for a state {@code (value, version)} and an operation with its recorded result:
 * <ul>
 *   <li>read: found {@code (v, n)} needs the same value and version (or {@code n >= bound});
 *       absent needs absent;</li>
 *   <li>write: {@code written n} needs {@code n >} the current version; with unknown outcome the
 *       new version is unknown, at least the current one + 1; a refusal is never justified;</li>
 *   <li>CAS on version {@code e}: {@code written n} needs the object present with version
 *       {@code e} and {@code n > e}; refused not-found needs absent; refused wrong-version needs
 *       present with version {@code != e} (and equal to the reported version if any); with unknown
 *       outcome it applies only where it could have succeeded.</li>
 * </ul>
 *
 * <p>One deliberate over-approximation: a wrong-version refusal without a reported version, on a
 * state whose version is unknown, is allowed without remembering "the version is not {@code e}".
 * This can only make the checker accept more histories, never reject a good one.
 */
final class RegisterModel implements Model {
    static final RegisterModel INSTANCE = new RegisterModel();

    /**
     * A register state.
     *
     * @param value   the value, null if absent
     * @param version the version if {@code known}, else the least version it can have
     * @param known   whether the version is known
     */
    record State(String value, long version, boolean known) {
        static final State ABSENT = new State(null, 0, true);

        boolean present() {
            return value != null;
        }

        /** Whether the version could be {@code v}. */
        boolean couldBe(long v) {
            return known ? version == v : v >= version;
        }

        /** Whether a new version {@code v} could follow this one. */
        boolean precedes(long v) {
            return v > version;
        }
    }

    @Override
    public Object initial() {
        return State.ABSENT;
    }

    @Override
    public Object step(Object state, KeyOp op) {
        final State s = (State) state;
        return switch (op.kind()) {
            case READ -> read(s, op.result());
            case WRITE -> {
                if (!op.known()) {
                    yield new State(op.value(), s.version + 1, false);
                }
                yield op.result() instanceof Result.Written(long v) && s.precedes(v) ? new State(op.value(), v, true)
                        : null;
            }
            case CAS -> cas(s, op);
            case INCR -> null;
        };
    }

    private static State read(State s, Result r) {
        return switch (r) {
            case Result.Absent a -> s.present() ? null : s;
            case Result.Found(String value, long version) when s.present() && s.value.equals(value)
                    && s.couldBe(version) -> s.known ? s : new State(value, version, true);
            default -> null;
        };
    }

    private static State cas(State s, KeyOp op) {
        final long e = op.expected();
        final boolean couldApply = s.present() && s.couldBe(e);
        if (!op.known()) {
            return couldApply ? new State(op.value(), e + 1, false) : null;
        }
        return switch (op.result()) {
            case Result.Written(long v) when couldApply && v > e -> new State(op.value(), v, true);
            case Result.Refused(Result.Refusal reason, long current) when reason == Result.Refusal.NOT_FOUND ->
                    s.present() ? null : s;
            case Result.Refused(Result.Refusal reason, long current) when s.present() -> {
                if (current == 0) {
                    yield s.known && s.version == e ? null : s;
                }
                yield current != e && s.couldBe(current) ? (s.known ? s : new State(s.value, current, true)) : null;
            }
            default -> null;
        };
    }

    @Override
    public String describe(Object state) {
        final State s = (State) state;
        if (!s.present()) {
            return "absent";
        }
        return "\"" + s.value + "\" " + (s.known ? "v" + s.version : "v>=" + s.version + " (unknown)");
    }
}
