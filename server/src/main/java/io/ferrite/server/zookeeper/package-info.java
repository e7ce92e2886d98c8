/** An embedded standalone ZooKeeper server for single-machine clusters ({@code ./ferrite zookeeper}). */
package io.ferrite.server.zookeeper;
