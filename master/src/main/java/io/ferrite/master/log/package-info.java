/** The master's log: segments over seglets, the head, digests, and the hook where replication plugs in. */
package io.ferrite.master.log;
