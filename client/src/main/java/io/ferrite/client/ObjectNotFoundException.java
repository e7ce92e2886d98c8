package io.ferrite.client;

/**
 * A condition required the object to exist and it does not (status {@code OBJECT_DOESNT_EXIST}).
 */
public class ObjectNotFoundException extends FerriteException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong
     */
    public ObjectNotFoundException(String message) {
        super(message);
    }
}
