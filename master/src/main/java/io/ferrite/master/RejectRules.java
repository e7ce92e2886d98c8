package io.ferrite.master;

/**
 * Conditions under which a write or remove is refused. An absent object is refused only by
 * {@code doesntExist}; the version rules apply to an existing object.
 *
 * @param doesntExist    refuse if the object does not exist
 * @param exists         refuse if the object exists
 * @param versionLeGiven refuse if the object's version is less than or equal to {@code givenVersion}
 * @param versionNeGiven refuse if the object's version differs from {@code givenVersion}
 * @param givenVersion   the version the version rules compare with
 */
public record RejectRules(boolean doesntExist, boolean exists, boolean versionLeGiven, boolean versionNeGiven,
                          long givenVersion) {
    /** No conditions. */
    public static final RejectRules NONE = new RejectRules(false, false, false, false, 0);

    /** Only if the object is absent (create). */
    public static final RejectRules IF_ABSENT = new RejectRules(false, true, false, false, 0);

    /** Only if the object exists at exactly {@code version} (compare-and-set). */
    public static RejectRules ifVersion(long version) {
        return new RejectRules(true, false, false, true, version);
    }

    /** The status these rules give an object that exists ({@code exists}) at {@code version}. */
    public Status check(boolean present, long version) {
        if (!present) {
            return doesntExist ? Status.OBJECT_DOESNT_EXIST : Status.OK;
        }
        if (exists) {
            return Status.OBJECT_EXISTS;
        }
        if (versionLeGiven && version <= givenVersion) {
            return Status.WRONG_VERSION;
        }
        if (versionNeGiven && version != givenVersion) {
            return Status.WRONG_VERSION;
        }
        return Status.OK;
    }
}
