/** The process roles behind {@code ./ferrite}: server, coordinator and embedded ZooKeeper, each announcing READY when it serves. */
package io.ferrite.server.launch;
