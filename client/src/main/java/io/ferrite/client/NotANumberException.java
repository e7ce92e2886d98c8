package io.ferrite.client;

/**
 * An increment found a value that is not an 8-byte number; nothing was changed.
 */
public class NotANumberException extends FerriteException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong
     */
    public NotANumberException(String message) {
        super(message);
    }
}
