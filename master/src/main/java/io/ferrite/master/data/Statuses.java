package io.ferrite.master.data;

import io.ferrite.master.RejectRules;
import io.ferrite.proto.v1.Status;

/** Translation between the engine's types and the wire's. */
final class Statuses {
    private Statuses() {
    }

    /** The wire status of an engine status. */
    static Status toProto(io.ferrite.master.Status status) {
        return switch (status) {
            case OK -> Status.OK;
            case OBJECT_DOESNT_EXIST -> Status.OBJECT_DOESNT_EXIST;
            case OBJECT_EXISTS -> Status.OBJECT_EXISTS;
            case WRONG_VERSION -> Status.WRONG_VERSION;
            case UNKNOWN_TABLET -> Status.UNKNOWN_TABLET;
            case RETRY -> Status.RETRY;
            case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
            case NOT_A_NUMBER -> Status.NOT_A_NUMBER;
            case SNAPSHOT_DOESNT_EXIST -> Status.SNAPSHOT_DOESNT_EXIST;
        };
    }

    /** The engine's reject rules for the wire's (absent or all-false means none). */
    static RejectRules toEngine(boolean present, io.ferrite.proto.v1.RejectRules rules) {
        if (!present) {
            return RejectRules.NONE;
        }
        if (!rules.getDoesntExist() && !rules.getExists() && !rules.getVersionLeGiven() && !rules.getVersionNeGiven()) {
            return RejectRules.NONE;
        }
        return new RejectRules(rules.getDoesntExist(), rules.getExists(), rules.getVersionLeGiven(),
                rules.getVersionNeGiven(), rules.getGivenVersion());
    }
}
