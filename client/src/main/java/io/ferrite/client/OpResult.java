package io.ferrite.client;

/**
 * The result of one item of a multi-write or multi-remove. Items are independent: one refused
 * item does not stop the others, so refusals are reported here rather than thrown.
 *
 * @param outcome what happened
 * @param version on {@link Outcome#OK}: the new version (write) or the removed object's version
 *                (remove); when a condition refused: the object's current version; else 0
 */
public record OpResult(Outcome outcome, long version) {
    /**
     * Whether the item was applied.
     *
     * @return true on {@link Outcome#OK}
     */
    public boolean isOk() {
        return outcome == Outcome.OK;
    }

    /**
     * Returns the version if applied, else throws the exception the single-item operation
     * would have thrown.
     *
     * @return the version
     * @throws ObjectNotFoundException on {@link Outcome#OBJECT_NOT_FOUND}
     * @throws ObjectExistsException   on {@link Outcome#OBJECT_EXISTS}
     * @throws WrongVersionException   on {@link Outcome#WRONG_VERSION}
     */
    public long orThrow() {
        return switch (outcome) {
            case OK -> version;
            case OBJECT_NOT_FOUND -> throw new ObjectNotFoundException("object does not exist");
            case OBJECT_EXISTS -> throw new ObjectExistsException("object exists (version " + version + ")", version);
            case WRONG_VERSION -> throw new WrongVersionException("wrong version (current " + version + ")", version);
        };
    }
}
