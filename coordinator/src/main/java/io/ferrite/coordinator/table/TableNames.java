package io.ferrite.coordinator.table;

import java.nio.charset.StandardCharsets;

/** The rules for table names: 1..256 bytes of UTF-8, no {@code '/'}. */
public final class TableNames {
    public static final int MAX_NAME_BYTES = 256;

    private TableNames() {
    }

    /** Why {@code name} cannot name a table, or null if it can. */
    public static String problem(String name) {
        if (name == null || name.isEmpty()) {
            return "table name must not be empty";
        }
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_NAME_BYTES) {
            return "table name is " + bytes + " bytes of UTF-8, more than the limit of " + MAX_NAME_BYTES;
        }
        if (name.indexOf('/') >= 0) {
            return "table name must not contain '/'";
        }
        return null;
    }
}
