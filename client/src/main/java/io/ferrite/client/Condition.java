package io.ferrite.client;

/**
 * When a write, remove or increment may proceed: the SDK's form of the wire's reject rules.
 * A refused operation changes nothing and throws (or, in a multi-operation, reports) the
 * outcome named below.
 *
 * <table>
 *   <caption>Conditions and the outcome when refused</caption>
 *   <tr><th>factory</th><th>proceeds when</th><th>refused with</th></tr>
 *   <tr><td>{@link #none()}</td><td>always</td><td>—</td></tr>
 *   <tr><td>{@link #ifAbsent()}</td><td>the object does not exist</td>
 *       <td>{@link ObjectExistsException}</td></tr>
 *   <tr><td>{@link #ifExists()}</td><td>the object exists</td>
 *       <td>{@link ObjectNotFoundException}</td></tr>
 *   <tr><td>{@link #ifVersion(long) ifVersion(v)}</td><td>it exists with version {@code v}
 *       (compare-and-set)</td><td>{@link ObjectNotFoundException} /
 *       {@link WrongVersionException}</td></tr>
 *   <tr><td>{@link #ifNewerThan(long) ifNewerThan(v)}</td><td>it exists with a version
 *       {@code > v}</td><td>{@link ObjectNotFoundException} /
 *       {@link WrongVersionException}</td></tr>
 * </table>
 *
 * <p>{@link #of} builds any combination of the raw rules.
 *
 * @param rejectIfAbsent        refuse if the object does not exist
 * @param rejectIfExists        refuse if the object exists
 * @param rejectIfVersionAtMost refuse an existing object whose version is {@code <= version}
 * @param rejectIfVersionNot    refuse an existing object whose version is {@code != version}
 * @param version               the version the version rules compare with
 */
public record Condition(boolean rejectIfAbsent, boolean rejectIfExists, boolean rejectIfVersionAtMost,
                        boolean rejectIfVersionNot, long version) {
    private static final Condition NONE = new Condition(false, false, false, false, 0);
    private static final Condition IF_ABSENT = new Condition(false, true, false, false, 0);
    private static final Condition IF_EXISTS = new Condition(true, false, false, false, 0);

    /**
     * Unconditional.
     *
     * @return the condition that always proceeds
     */
    public static Condition none() {
        return NONE;
    }

    /**
     * Create only: proceed if the object does not exist.
     *
     * @return the condition
     */
    public static Condition ifAbsent() {
        return IF_ABSENT;
    }

    /**
     * Update only: proceed if the object exists.
     *
     * @return the condition
     */
    public static Condition ifExists() {
        return IF_EXISTS;
    }

    /**
     * Compare-and-set: proceed if the object exists with exactly this version.
     *
     * @param version the expected version (as returned by a read or a write)
     * @return the condition
     */
    public static Condition ifVersion(long version) {
        return new Condition(true, false, false, true, version);
    }

    /**
     * Proceed if the object exists with a version strictly greater than {@code version}.
     *
     * @param version the version to exceed
     * @return the condition
     */
    public static Condition ifNewerThan(long version) {
        return new Condition(true, false, true, false, version);
    }

    /**
     * Any combination of the raw reject rules.
     *
     * @param rejectIfAbsent        refuse if the object does not exist
     * @param rejectIfExists        refuse if the object exists
     * @param rejectIfVersionAtMost refuse an existing object whose version is {@code <= version}
     * @param rejectIfVersionNot    refuse an existing object whose version is {@code != version}
     * @param version               the version the version rules compare with
     * @return the condition
     */
    public static Condition of(boolean rejectIfAbsent, boolean rejectIfExists, boolean rejectIfVersionAtMost,
                               boolean rejectIfVersionNot, long version) {
        return new Condition(rejectIfAbsent, rejectIfExists, rejectIfVersionAtMost, rejectIfVersionNot, version);
    }

    /**
     * Whether this condition always proceeds (no rule set).
     *
     * @return true for {@link #none()} and its equivalents
     */
    public boolean isNone() {
        return !rejectIfAbsent && !rejectIfExists && !rejectIfVersionAtMost && !rejectIfVersionNot;
    }
}
