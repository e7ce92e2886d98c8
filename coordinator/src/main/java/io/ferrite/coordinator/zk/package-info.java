/** The cluster's ZooKeeper layout under {@code /ferrite/<cluster>/}: paths, node encodings, and a cached view of it. */
package io.ferrite.coordinator.zk;
