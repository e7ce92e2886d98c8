package io.ferrite.client;

/**
 * {@link FerriteClient#createTable(String, int)} named a table that already exists.
 */
public class TableExistsException extends FerriteException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong
     */
    public TableExistsException(String message) {
        super(message);
    }
}
