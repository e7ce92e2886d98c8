package io.ferrite.client;

/**
 * An enumeration could not continue where it stopped because the table's tablets changed owner mid-way; restart it from the beginning if every object is needed.
 */
public class EnumerationInterruptedException extends FerriteException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong
     */
    public EnumerationInterruptedException(String message) {
        super(message);
    }
}
