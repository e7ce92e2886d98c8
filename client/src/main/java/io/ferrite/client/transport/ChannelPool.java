package io.ferrite.client.transport;

import io.ferrite.client.ChannelFactory;
import io.ferrite.client.FerriteException;
import io.grpc.ManagedChannel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** One {@link ManagedChannel} per address, made on first use and kept until {@link #close()}. */
public final class ChannelPool implements AutoCloseable {
    private static final long SHUTDOWN_WAIT_MS = 2_000;

    private final ChannelFactory factory;
    private final ConcurrentHashMap<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * Creates an empty pool.
     *
     * @param factory makes each channel
     */
    public ChannelPool(ChannelFactory factory) {
        this.factory = factory;
    }

    /**
     * The channel for an address, made on first use.
     *
     * @param address host:port
     * @return the cached channel
     * @throws FerriteException if the pool is closed
     */
    public ManagedChannel channel(String address) {
        ManagedChannel channel = channels.get(address);
        if (channel != null) {
            return channel;
        }
        if (closed) {
            throw new FerriteException("client is closed");
        }
        channel = channels.computeIfAbsent(address, factory::create);
        if (closed) {
            channel.shutdownNow();
            throw new FerriteException("client is closed");
        }
        return channel;
    }

    /** Shuts every channel down and waits briefly for them to terminate. */
    @Override
    public void close() {
        closed = true;
        List<ManagedChannel> all = new ArrayList<>(channels.values());
        channels.clear();
        for (ManagedChannel channel : all) {
            channel.shutdownNow();
        }
        boolean interrupted = false;
        for (ManagedChannel channel : all) {
            try {
                channel.awaitTermination(SHUTDOWN_WAIT_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
