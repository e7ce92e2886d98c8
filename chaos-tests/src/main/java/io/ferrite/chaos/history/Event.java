package io.ferrite.chaos.history;

import java.util.Objects;

/**
 * One line of a {@link History}: an operation's invocation or its completion.
 *
 * @param id      the operation's id, shared by its invoke and completion events
 * @param process the workload process (thread) that ran it
 * @param type    what happened
 * @param timeNs  nanoseconds since the history started
 * @param op      the operation ({@link Type#INVOKE} only, else null)
 * @param result  the answer ({@link Type#OK} only, else null)
 * @param reason  why it failed or is unknown ({@link Type#FAIL}, {@link Type#INFO}), else null
 */
public record Event(long id, int process, Type type, long timeNs, Op op, Result result, String reason) {

    /** The kinds of event. */
    public enum Type {
        /** The call started. */
        INVOKE,
        /** The call completed with a result (which may be a refusal). */
        OK,
        /** Definitely not applied. */
        FAIL,
        /** Outcome unknown: may have been applied at any time after the invoke, or never. */
        INFO
    }

    /**
     * Validates that each type carries what it needs.
     *
     * @param id      the id
     * @param process the process
     * @param type    the type
     * @param timeNs  the time
     * @param op      the operation
     * @param result  the result
     * @param reason  the reason
     */
    public Event {
        Objects.requireNonNull(type, "type");
        switch (type) {
            case INVOKE -> Objects.requireNonNull(op, "op");
            case OK -> Objects.requireNonNull(result, "result");
            case FAIL, INFO -> Objects.requireNonNull(reason, "reason");
        }
    }
}
