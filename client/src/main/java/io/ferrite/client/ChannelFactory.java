package io.ferrite.client;

import io.grpc.ManagedChannel;

/**
 * Makes the gRPC channel for one address (a coordinator's or a master's host:port). The
 * client makes one channel per address, caches it, and shuts it down on close. The default
 * uses Netty in plaintext with a direct executor; tests pass in-process channels.
 */
@FunctionalInterface
public interface ChannelFactory {
    /**
     * Creates a channel.
     *
     * @param address host:port (or any name the factory understands)
     * @return a new channel that the client owns
     */
    ManagedChannel create(String address);
}
