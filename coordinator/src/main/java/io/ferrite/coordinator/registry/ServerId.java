package io.ferrite.coordinator.registry;

import io.ferrite.coordinator.zk.ClusterPaths;

/**
 * A server's identity in the cluster: a 32-bit index, stable across restarts of the same
 * server (same stable name), and a 32-bit generation, incremented by every restart. On the
 * wire it is one 64-bit number, index in the high half: {@link #asLong()}. Both halves are
 * unsigned. Index 0 is never handed out, so id 0 means "no server".
 *
 * @param index      unsigned 32-bit index
 * @param generation unsigned 32-bit generation (0 for the first registration)
 */
public record ServerId(int index, int generation) implements Comparable<ServerId> {

    /** The id from its 64-bit form. */
    public static ServerId of(long id) {
        return new ServerId((int) (id >>> 32), (int) id);
    }

    /** High 32 bits index, low 32 bits generation. */
    public long asLong() {
        return (long) index << 32 | (generation & 0xFFFF_FFFFL);
    }

    /** The same index, one generation later. */
    public ServerId nextGeneration() {
        return new ServerId(index, generation + 1);
    }

    public long indexUnsigned() {
        return index & 0xFFFF_FFFFL;
    }

    public long generationUnsigned() {
        return generation & 0xFFFF_FFFFL;
    }

    @Override
    public int compareTo(ServerId other) {
        return Long.compareUnsigned(asLong(), other.asLong());
    }

    /** {@code <index>.<generation>}, the form used in logs and ZooKeeper node names. */
    @Override
    public String toString() {
        return ClusterPaths.serverNode(asLong());
    }
}
