/**
 * An embedded ZooKeeper server ({@code ./ferrite zookeeper}): standalone for single-machine
 * clusters, or one member of an ensemble.
 */
package io.ferrite.server.zookeeper;
