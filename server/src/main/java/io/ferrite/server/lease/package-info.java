/** Fencing: the server's ZooKeeper lease, and when it may serve data. */
package io.ferrite.server.lease;
