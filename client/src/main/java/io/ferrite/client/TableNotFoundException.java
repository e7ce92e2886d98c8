package io.ferrite.client;

/**
 * The table does not exist (status {@code TABLE_DOESNT_EXIST}), or was dropped while a {@link Table} handle still referred to it.
 */
public class TableNotFoundException extends FerriteException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong
     */
    public TableNotFoundException(String message) {
        super(message);
    }
}
