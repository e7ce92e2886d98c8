/** Fencing: the server's lease (heartbeats acknowledged by the leader coordinator, and its ZooKeeper session), and when it may serve data. */
package io.ferrite.server.lease;
