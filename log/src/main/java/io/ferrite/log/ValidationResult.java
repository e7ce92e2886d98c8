package io.ferrite.log;

/** Outcome of checking a whole segment against its certificate. */
public sealed interface ValidationResult {
    /** Every entry up to the certified length is well formed and checksummed. */
    record Valid(long entries) implements ValidationResult {
    }

    /** The first problem found; nothing at or after {@code corruption().offset()} is trusted. */
    record Corrupt(Corruption corruption) implements ValidationResult {
    }

    default boolean isValid() {
        return this instanceof Valid;
    }
}
