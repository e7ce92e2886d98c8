package io.ferrite.coordinator.rpc;

import java.util.Optional;

/** What the coordinator service needs to know about leader election. */
public interface Leadership {
    /** Whether this coordinator holds leadership now, with its term's epoch written. */
    boolean isLeader();

    /**
     * The epoch of this coordinator's current leader term ({@link LeaderEpoch}): strictly larger
     * than every earlier term's, the same for the whole term; 0 while this coordinator is not
     * leader (or has not written its epoch yet). Every control call that moves or drops data
     * carries it ({@code coordinator_epoch}), so masters refuse a deposed leader's calls.
     */
    long epoch();

    /** The current leader's {@code host:port}, if there is one and it can be read. */
    Optional<String> leaderAddress();

    /** This coordinator's own {@code host:port}. */
    String selfAddress();
}
