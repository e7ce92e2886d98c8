package io.ferrite.chaos.history;

/**
 * A counter key: an 8-byte value, absent counting as 0. An increment returns the new value; a
 * read compares the numeric value only. An increment with unknown outcome adds its delta.
 */
final class CounterModel implements Model {
    static final CounterModel INSTANCE = new CounterModel();

    @Override
    public Object initial() {
        return 0L;
    }

    @Override
    public Object step(Object state, KeyOp op) {
        final long value = (Long) state;
        return switch (op.kind()) {
            case INCR -> {
                final long next = value + op.delta();
                yield !op.known() || (op.result() instanceof Result.CounterValue(long r) && r == next) ? next : null;
            }
            case READ -> switch (op.result()) {
                case Result.CounterValue(long r) when r == value -> state;
                case Result.Absent a when value == 0 -> state;
                default -> null;
            };
            default -> null;
        };
    }

    @Override
    public String describe(Object state) {
        return "counter " + state;
    }
}
