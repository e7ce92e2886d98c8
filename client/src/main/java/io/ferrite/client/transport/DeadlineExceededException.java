package io.ferrite.client.transport;

import io.ferrite.client.FerriteException;

/**
 * An attempt's deadline passed while it waited for a master's answer; the caller turns it
 * into a {@link io.ferrite.client.FerriteTimeoutException}.
 */
public final class DeadlineExceededException extends FerriteException {
    /**
     * Creates the exception.
     *
     * @param message what timed out
     * @param cause   the gRPC failure, or {@code null}
     */
    public DeadlineExceededException(String message, Throwable cause) {
        super(message, cause);
    }
}
