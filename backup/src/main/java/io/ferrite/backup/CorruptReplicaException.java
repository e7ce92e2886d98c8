package io.ferrite.backup;

/** A replica failed verification against its certificate: it is never served as good. */
public final class CorruptReplicaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CorruptReplicaException(String message) {
        super(message);
    }
}
