package io.ferrite.client;

/** The snapshot does not exist (never taken, or dropped), or a master holding part of it is gone. */
public final class SnapshotNotFoundException extends FerriteException {
    /**
     * Creates the exception.
     *
     * @param message what was asked and why it failed
     */
    public SnapshotNotFoundException(String message) {
        super(message);
    }
}
