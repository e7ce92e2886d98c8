package io.ferrite.client;

/**
 * Base of every exception the SDK throws. Unchecked: expected outcomes that a caller asks
 * about (an absent object on read) are values, not exceptions; refused preconditions and
 * failures are subclasses of this type.
 */
public class FerriteException extends RuntimeException {
    /**
     * Creates an exception with a message.
     *
     * @param message what went wrong
     */
    public FerriteException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a message and a cause.
     *
     * @param message what went wrong
     * @param cause   the underlying failure
     */
    public FerriteException(String message, Throwable cause) {
        super(message, cause);
    }
}
