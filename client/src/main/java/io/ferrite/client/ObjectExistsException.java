package io.ferrite.client;

/**
 * A condition required the object not to exist ({@link Condition#ifAbsent()}) and it does
 * (status {@code OBJECT_EXISTS}). Nothing was changed.
 */
public class ObjectExistsException extends FerriteException {
    private final long currentVersion;

    /**
     * Creates the exception.
     *
     * @param message        what went wrong
     * @param currentVersion the existing object's version, or 0 if the server did not say
     */
    public ObjectExistsException(String message, long currentVersion) {
        super(message);
        this.currentVersion = currentVersion;
    }

    /**
     * The existing object's version.
     *
     * @return the version, or 0 if the server did not report it
     */
    public long currentVersion() {
        return currentVersion;
    }
}
