/** Tables and tablets: name rules, hash-space splitting, and the leader's create and drop procedures. */
package io.ferrite.coordinator.table;
