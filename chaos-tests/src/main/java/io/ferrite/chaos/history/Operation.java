package io.ferrite.chaos.history;

/**
 * An operation with its outcome: an invoke paired with its completion. An operation that never
 * completed is reported as {@link Status#INFO} with {@link #completeNs()} = {@link #NEVER}.
 *
 * @param id         the id
 * @param process    the process that ran it
 * @param op         the operation
 * @param invokeNs   when it was invoked (ns since the history started)
 * @param completeNs when it completed, or {@link #NEVER}
 * @param status     how it ended
 * @param result     the answer if {@link Status#OK}, else null
 * @param reason     why it failed or is unknown, else null
 */
public record Operation(long id, int process, Op op, long invokeNs, long completeNs, Status status, Result result,
                        String reason) {

    /** The completion time of an operation that never completed. */
    public static final long NEVER = Long.MAX_VALUE;

    /** How an operation ended. */
    public enum Status {
        /** Completed with a result. */
        OK,
        /** Definitely not applied. */
        FAIL,
        /** Outcome unknown. */
        INFO
    }
}
