/** The off-heap hash table that maps keys to log references, with tags, chaining and lock-free reads. */
package io.ferrite.master.hashtable;
