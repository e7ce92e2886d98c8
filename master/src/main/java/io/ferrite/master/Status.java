package io.ferrite.master;

/** Outcome of an object operation. Expected outcomes are statuses, not exceptions. */
public enum Status {
    OK,
    /** The object does not exist (read, or a reject rule asked for it to exist). */
    OBJECT_DOESNT_EXIST,
    /** A reject rule asked for the object not to exist. */
    OBJECT_EXISTS,
    /** A version reject rule failed. */
    WRONG_VERSION,
    /** This master does not own the key's tablet. */
    UNKNOWN_TABLET,
    /** Memory is full for now; try again after the cleaner has freed some. Nothing was written. */
    RETRY,
    /** The request breaks a limit (key or value size). Nothing was written. */
    INVALID_ARGUMENT,
    /** An increment found a value that is not an 8-byte number. Nothing was written. */
    NOT_A_NUMBER,
    /** No snapshot with that id of that table is held here. */
    SNAPSHOT_DOESNT_EXIST
}
