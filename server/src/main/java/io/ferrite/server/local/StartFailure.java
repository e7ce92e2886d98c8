package io.ferrite.server.local;

/** The local cluster could not start; the message says which process and why, with its log's last lines. */
public final class StartFailure extends Exception {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the failure.
     *
     * @param message what failed, for the user
     */
    public StartFailure(String message) {
        super(message);
    }
}
