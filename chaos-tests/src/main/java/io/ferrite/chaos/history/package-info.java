/**
 * The chaos suite's history of client operations ({@link io.ferrite.chaos.history.History}) and
 * the checkers run on it: linearizability per key, durability of acknowledged writes, and
 * availability around each injected fault, tied together in a
 * {@link io.ferrite.chaos.history.CheckReport}.
 */
package io.ferrite.chaos.history;
