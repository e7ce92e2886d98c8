/**
 * Hazelcast as a peer of {@code bench compare}: member JVMs driven over a line protocol, the
 * peer that starts, measures and kills them, and the YCSB binding that reaches them as a client.
 */
package io.ferrite.bench.compare.hazelcast;
