package io.ferrite.client;

/**
 * The per-call deadline ({@link ClientOptions#timeout()}) passed before the operation could
 * complete: the owning master did not answer, kept answering {@code RETRY}, its tablet stayed
 * {@code RECOVERING}, or no coordinator could be reached. A mutation that timed out may or may
 * not have been applied.
 */
public class FerriteTimeoutException extends FerriteException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong
     * @param cause   the last retriable failure seen, or {@code null}
     */
    public FerriteTimeoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
