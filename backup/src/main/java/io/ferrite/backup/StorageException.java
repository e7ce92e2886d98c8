package io.ferrite.backup;

import java.io.IOException;

/**
 * A replica could not be stored: what failed ({@link Op}) and whether its file system is full
 * or failing ({@link Kind}).
 */
final class StorageException extends IOException {
    private static final long serialVersionUID = 1L;

    /** What failed: a buffer's allocation, a flush's write (or rename), or its {@code fsync}. */
    enum Op { ALLOCATE, WRITE, FSYNC }

    /** Full (ENOSPC, EDQUOT) or any other failure (EIO, ...). */
    enum Kind { NO_SPACE, IO }

    private final Op op;
    private final Kind kind;

    StorageException(Op op, Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.op = op;
        this.kind = kind;
    }

    /** Classifies an exception of the JDK's file I/O. */
    static StorageException of(Op op, String message, IOException cause) {
        if (cause instanceof StorageException s) {
            return s;
        }
        return new StorageException(op, FileSpace.isNoSpace(cause) ? Kind.NO_SPACE : Kind.IO,
                message + ": " + cause, cause);
    }

    Op op() {
        return op;
    }

    Kind kind() {
        return kind;
    }
}
