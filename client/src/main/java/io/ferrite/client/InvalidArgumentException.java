package io.ferrite.client;

/**
 * The request breaks a limit or is malformed (empty or oversized key, oversized value, bad table name); nothing was changed. Checked by the SDK before sending where it can, and by the server ({@code INVALID_ARGUMENT}).
 */
public class InvalidArgumentException extends FerriteException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong
     */
    public InvalidArgumentException(String message) {
        super(message);
    }
}
