package io.ferrite.client.ops;

import io.ferrite.client.ClientOptions;
import io.ferrite.client.FerriteException;
import io.ferrite.client.routing.CoordinatorClient;
import io.ferrite.client.transport.Backoff;
import io.ferrite.client.transport.ChannelPool;
import io.ferrite.client.transport.MasterConnection;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * What every operation of one client shares: options, the channel pool, the coordinator
 * client, one {@link MasterConnection} per master address, and one timer thread that runs
 * backoff waits and sweeps expired requests off the streams.
 */
public final class ClientRuntime implements AutoCloseable {
    /** How often pending stream requests are checked against their deadline. */
    public static final long SWEEP_INTERVAL_MS = 10;

    private final ClientOptions options;
    private final ChannelPool channels;
    private final CoordinatorClient coordinator;
    private final ScheduledThreadPoolExecutor timer;
    private final Backoff backoff;
    private final long timeoutNs;
    private final ConcurrentHashMap<String, MasterConnection> connections = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * Starts the runtime (the timer thread); opens no connection yet.
     *
     * @param coordinators coordinator addresses
     * @param options      the client's options
     */
    public ClientRuntime(List<String> coordinators, ClientOptions options) {
        this.options = options;
        this.channels = new ChannelPool(options.channelFactory());
        this.timeoutNs = options.timeout().toNanos();
        this.backoff = Backoff.of(options.retryBackoffMin(), options.retryBackoffMax());
        this.timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "ferrite-client-timer");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        this.coordinator = new CoordinatorClient(coordinators, channels, timer, backoff, timeoutNs);
        timer.scheduleWithFixedDelay(this::sweep, SWEEP_INTERVAL_MS, SWEEP_INTERVAL_MS, TimeUnit.MILLISECONDS);
    }

    private void sweep() {
        long now = System.nanoTime();
        for (MasterConnection connection : connections.values()) {
            connection.expire(now);
        }
    }

    /**
     * The options.
     *
     * @return the client's options
     */
    public ClientOptions options() {
        return options;
    }

    /**
     * The coordinator client.
     *
     * @return the coordinator client
     */
    public CoordinatorClient coordinator() {
        return coordinator;
    }

    /**
     * The backoff policy.
     *
     * @return the backoff
     */
    public Backoff backoff() {
        return backoff;
    }

    /**
     * A deadline {@link ClientOptions#timeout()} from now.
     *
     * @return {@link System#nanoTime()} deadline
     */
    public long newDeadlineNs() {
        return System.nanoTime() + timeoutNs;
    }

    /**
     * The connection to a master, made on first use.
     *
     * @param address the master's host:port
     * @return its connection
     */
    public MasterConnection connection(String address) {
        MasterConnection c = connections.get(address);
        if (c == null) {
            if (closed) {
                throw new FerriteException("client is closed");
            }
            c = connections.computeIfAbsent(address, a -> new MasterConnection(a, channels.channel(a),
                    options.useStreams(), options.maxInFlightPerServer()));
        }
        return c;
    }

    /**
     * The connections made so far (for tests and diagnostics).
     *
     * @return address to connection
     */
    public java.util.Map<String, MasterConnection> connections() {
        return java.util.Collections.unmodifiableMap(connections);
    }

    /**
     * Runs a task after a delay on the timer thread.
     *
     * @param task    what to run (must not block)
     * @param delayNs how long to wait
     * @return false if the client is closed (the task will not run)
     */
    public boolean schedule(Runnable task, long delayNs) {
        if (closed) {
            return false;
        }
        try {
            timer.schedule(task, delayNs, TimeUnit.NANOSECONDS);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /**
     * Runs a task after a delay on the timer thread, cancellably.
     *
     * @param task    what to run (must not block)
     * @param delayNs how long to wait
     * @return the scheduled task, or {@code null} if the client is closed
     */
    public java.util.concurrent.ScheduledFuture<?> scheduleCancellable(Runnable task, long delayNs) {
        if (closed) {
            return null;
        }
        try {
            return timer.schedule(task, delayNs, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            return null;
        }
    }

    /**
     * The channel to an address (for calls other than the data operations, e.g. enumerate).
     *
     * @param address host:port
     * @return the cached channel
     */
    public io.grpc.ManagedChannel channel(String address) {
        return channels.channel(address);
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return closed;
    }

    /** Closes streams (pending calls fail), stops the timer, shuts the channels down. */
    @Override
    public void close() {
        closed = true;
        for (MasterConnection c : connections.values()) {
            c.close();
        }
        timer.shutdownNow();
        channels.close();
    }
}
