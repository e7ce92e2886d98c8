package io.ferrite.chaos.history;

import java.util.Objects;

/**
 * A fault the injector caused, on the history's clock.
 *
 * @param kind         what kind, e.g. {@code "kill-master"} or {@code "partition"}
 * @param injectedAtNs when it was injected (ns since the history started)
 * @param healedAtNs   when it was healed, or {@link #NOT_HEALED}
 */
public record Fault(String kind, long injectedAtNs, long healedAtNs) {

    /** {@link #healedAtNs()} of a fault that was never healed (or has no heal, like a kill). */
    public static final long NOT_HEALED = -1;

    /**
     * Validates.
     *
     * @param kind         the kind
     * @param injectedAtNs when injected
     * @param healedAtNs   when healed or {@link #NOT_HEALED}
     */
    public Fault {
        Objects.requireNonNull(kind, "kind");
        if (healedAtNs != NOT_HEALED && healedAtNs < injectedAtNs) {
            throw new IllegalArgumentException("healed before injected: " + kind);
        }
    }

    /**
     * Whether the fault has a heal time.
     *
     * @return true if healed
     */
    public boolean healed() {
        return healedAtNs != NOT_HEALED;
    }
}
