package io.ferrite.client.transport;

import io.ferrite.client.FerriteException;

/**
 * A failure that says nothing about the request itself (a broken connection or stream, a
 * master's stream at its in-flight bound): the caller refreshes its tablet map and retries
 * with backoff until its deadline. Never reaches SDK users: it becomes the cause of a
 * {@link io.ferrite.client.FerriteTimeoutException} if retries run out.
 */
public final class RetriableException extends FerriteException {
    private final boolean refreshMap;

    /**
     * Creates the exception for a failure after which the tablet map is refreshed.
     *
     * @param message what failed
     * @param cause   the transport failure, or {@code null}
     */
    public RetriableException(String message, Throwable cause) {
        this(message, cause, true);
    }

    /**
     * Creates the exception.
     *
     * @param message    what failed
     * @param cause      the transport failure, or {@code null}
     * @param refreshMap whether the map may be stale (false when the master is merely busy)
     */
    public RetriableException(String message, Throwable cause, boolean refreshMap) {
        super(message, cause);
        this.refreshMap = refreshMap;
    }

    /**
     * Whether to refresh the tablet map before retrying.
     *
     * @return false when only the local in-flight bound was hit
     */
    public boolean refreshMap() {
        return refreshMap;
    }
}
