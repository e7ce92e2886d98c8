package io.ferrite.client;

/**
 * A table as listed by {@link FerriteClient#listTables()}.
 *
 * @param name        the table's name
 * @param id          its 64-bit id
 * @param tabletCount how many tablets it is split into
 */
public record TableInfo(String name, long id, int tabletCount) {
}
