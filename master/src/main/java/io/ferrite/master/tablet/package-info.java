/** The tablets this master owns, as a copy-on-write sorted set of hash ranges with lock-free lookups. */
package io.ferrite.master.tablet;
