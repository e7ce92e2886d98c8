package io.ferrite.client;

/**
 * A version condition ({@link Condition#ifVersion(long)}, {@link Condition#ifNewerThan(long)})
 * refused the operation (status {@code WRONG_VERSION}). Nothing was changed.
 */
public class WrongVersionException extends FerriteException {
    private final long currentVersion;

    /**
     * Creates the exception.
     *
     * @param message        what went wrong
     * @param currentVersion the object's current version
     */
    public WrongVersionException(String message, long currentVersion) {
        super(message);
        this.currentVersion = currentVersion;
    }

    /**
     * The object's current version, to re-read or retry a compare-and-set with.
     *
     * @return the current version
     */
    public long currentVersion() {
        return currentVersion;
    }
}
