package io.ferrite.coordinator.rpc;

import java.util.Optional;

/** What the coordinator service needs to know about leader election. */
public interface Leadership {
    /** Whether this coordinator holds leadership now. */
    boolean isLeader();

    /** The current leader's {@code host:port}, if there is one and it can be read. */
    Optional<String> leaderAddress();

    /** This coordinator's own {@code host:port}. */
    String selfAddress();
}
