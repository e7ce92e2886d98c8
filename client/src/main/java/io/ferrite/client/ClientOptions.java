package io.ferrite.client;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link FerriteClient}; immutable, made with {@link #builder()}. Defaults are
 * the named constants below.
 */
public final class ClientOptions {
    /** Default per-call deadline: 10 s. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    /** Default first retry backoff: 1 ms. */
    public static final Duration DEFAULT_RETRY_BACKOFF_MIN = Duration.ofMillis(1);
    /** Default largest retry backoff: 200 ms. */
    public static final Duration DEFAULT_RETRY_BACKOFF_MAX = Duration.ofMillis(200);
    /** Default bound on requests in flight on one master's stream: 8,192. */
    public static final int DEFAULT_MAX_IN_FLIGHT_PER_SERVER = 8192;
    /** Default most items in one multi-operation request to one master: 1,000. */
    public static final int DEFAULT_MULTI_OP_BATCH_ITEMS = 1000;
    /**
     * Most items a master accepts in one multi-operation request: 4,096 (it refuses more with
     * INVALID_ARGUMENT); {@code multiOpBatchItems} may not exceed it. Larger calls are split.
     */
    public static final int MAX_MULTI_OP_BATCH_ITEMS = 4096;
    /** Default most bytes of keys and values in one multi-operation request: 8 MiB. */
    public static final int DEFAULT_MULTI_OP_BATCH_BYTES = 8 << 20;
    /** Default spin of a synchronous data call before it parks: 200 µs. */
    public static final Duration DEFAULT_SYNC_SPIN = Duration.ofNanos(200_000);
    /** Largest message the default channels accept: 64 MiB (multi-read answers can be big). */
    public static final int MAX_INBOUND_MESSAGE_BYTES = 64 << 20;

    private final Duration timeout;
    private final Duration retryBackoffMin;
    private final Duration retryBackoffMax;
    private final boolean useStreams;
    private final int maxInFlightPerServer;
    private final int multiOpBatchItems;
    private final int multiOpBatchBytes;
    private final int enumerateBatchObjects;
    private final ChannelFactory channelFactory;
    private final Duration syncSpin;

    private ClientOptions(Builder b) {
        this.syncSpin = b.syncSpin;
        this.timeout = b.timeout;
        this.retryBackoffMin = b.retryBackoffMin;
        this.retryBackoffMax = b.retryBackoffMax;
        this.useStreams = b.useStreams;
        this.maxInFlightPerServer = b.maxInFlightPerServer;
        this.multiOpBatchItems = b.multiOpBatchItems;
        this.multiOpBatchBytes = b.multiOpBatchBytes;
        this.enumerateBatchObjects = b.enumerateBatchObjects;
        this.channelFactory = b.channelFactory;
    }

    /**
     * A builder with every default.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The default options.
     *
     * @return options with every default
     */
    public static ClientOptions defaults() {
        return builder().build();
    }

    /**
     * How long one SDK call may take, retries included, before it fails with
     * {@link FerriteTimeoutException}. For enumeration: how long one batch may take.
     *
     * @return the per-call deadline
     */
    public Duration timeout() {
        return timeout;
    }

    /**
     * The first backoff before a retry; it doubles per attempt (with jitter) up to
     * {@link #retryBackoffMax()}.
     *
     * @return the smallest backoff
     */
    public Duration retryBackoffMin() {
        return retryBackoffMin;
    }

    /**
     * How long a synchronous data call spins waiting for its answer before the calling thread
     * parks. An answer that comes within it saves the wake-up of a parked thread (measured on a
     * busy 2-core machine: read p50 about 90 µs without spinning, about 52 µs with 200 µs); the
     * price is up to that much CPU per call. A table spins only for the kinds of call (reads,
     * writes) whose recent answers came within this time, so slow calls (replicated writes) do
     * not burn a core. Zero disables it.
     *
     * @return the spin bound (default {@link #DEFAULT_SYNC_SPIN})
     */
    public Duration syncSpin() {
        return syncSpin;
    }

    /**
     * The largest backoff between two attempts.
     *
     * @return the largest backoff
     */
    public Duration retryBackoffMax() {
        return retryBackoffMax;
    }

    /**
     * Whether data operations use one multiplexed {@code DataService.Stream} per master (true,
     * the default) or one unary call each. A master that does not implement the stream is
     * used through unary calls either way.
     *
     * @return true to use streams
     */
    public boolean useStreams() {
        return useStreams;
    }

    /**
     * Most requests waiting for an answer on one master's stream; past it a request waits
     * (retrying with backoff) until some complete or its deadline passes.
     *
     * @return the bound
     */
    public int maxInFlightPerServer() {
        return maxInFlightPerServer;
    }

    /**
     * Most items in one multi-operation request to one master; larger groups are split and
     * sent in parallel.
     *
     * @return items per request
     */
    public int multiOpBatchItems() {
        return multiOpBatchItems;
    }

    /**
     * Most key and value bytes in one multi-operation request (the server accepts 16 MiB).
     *
     * @return bytes per request
     */
    public int multiOpBatchBytes() {
        return multiOpBatchBytes;
    }

    /**
     * Objects asked for per enumeration batch (0 = the server's default).
     *
     * @return objects per batch
     */
    public int enumerateBatchObjects() {
        return enumerateBatchObjects;
    }

    /**
     * Makes the channel for each address.
     *
     * @return the channel factory
     */
    public ChannelFactory channelFactory() {
        return channelFactory;
    }

    /**
     * The default channel: Netty, plaintext, direct executor (answers are handled on the
     * network thread without a hop), 64 MiB inbound messages.
     *
     * @param address host:port
     * @return a new channel
     */
    public static io.grpc.ManagedChannel defaultChannel(String address) {
        return NettyChannelBuilder.forTarget(address)
                .usePlaintext()
                .directExecutor()
                .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
                .build();
    }

    /** Builds {@link ClientOptions}; every setter names the setting it checks. */
    public static final class Builder {
        private Duration timeout = DEFAULT_TIMEOUT;
        private Duration retryBackoffMin = DEFAULT_RETRY_BACKOFF_MIN;
        private Duration retryBackoffMax = DEFAULT_RETRY_BACKOFF_MAX;
        private boolean useStreams = true;
        private int maxInFlightPerServer = DEFAULT_MAX_IN_FLIGHT_PER_SERVER;
        private int multiOpBatchItems = DEFAULT_MULTI_OP_BATCH_ITEMS;
        private int multiOpBatchBytes = DEFAULT_MULTI_OP_BATCH_BYTES;
        private int enumerateBatchObjects;
        private ChannelFactory channelFactory = ClientOptions::defaultChannel;
        private Duration syncSpin = DEFAULT_SYNC_SPIN;

        private Builder() {
        }

        /**
         * Sets the per-call deadline.
         *
         * @param value positive duration
         * @return this builder
         */
        public Builder timeout(Duration value) {
            this.timeout = Objects.requireNonNull(value, "timeout");
            return this;
        }

        /**
         * Sets the backoff bounds.
         *
         * @param min first backoff, positive
         * @param max largest backoff, at least {@code min}
         * @return this builder
         */
        public Builder retryBackoff(Duration min, Duration max) {
            this.retryBackoffMin = Objects.requireNonNull(min, "retryBackoffMin");
            this.retryBackoffMax = Objects.requireNonNull(max, "retryBackoffMax");
            return this;
        }

        /**
         * Chooses streams (default) or unary calls for data operations.
         *
         * @param value true for streams
         * @return this builder
         */
        public Builder useStreams(boolean value) {
            this.useStreams = value;
            return this;
        }

        /**
         * Sets the bound on requests in flight per master stream.
         *
         * @param value at least 1
         * @return this builder
         */
        public Builder maxInFlightPerServer(int value) {
            this.maxInFlightPerServer = value;
            return this;
        }

        /**
         * Sets the item and byte bounds of one multi-operation request.
         *
         * @param items at least 1
         * @param bytes at least 1
         * @return this builder
         */
        public Builder multiOpBatch(int items, int bytes) {
            this.multiOpBatchItems = items;
            this.multiOpBatchBytes = bytes;
            return this;
        }

        /**
         * Sets the objects asked for per enumeration batch.
         *
         * @param value 0 for the server's default, else positive
         * @return this builder
         */
        public Builder enumerateBatchObjects(int value) {
            this.enumerateBatchObjects = value;
            return this;
        }

        /**
         * Sets how long a synchronous data call spins before parking.
         *
         * @param value zero (never spin) or positive, at most 10 ms
         * @return this builder
         */
        public Builder syncSpin(Duration value) {
            this.syncSpin = Objects.requireNonNull(value, "syncSpin");
            return this;
        }

        /**
         * Replaces the channel factory (TLS, interceptors, in-process channels for tests).
         *
         * @param value the factory
         * @return this builder
         */
        public Builder channelFactory(ChannelFactory value) {
            this.channelFactory = Objects.requireNonNull(value, "channelFactory");
            return this;
        }

        /**
         * Validates and builds.
         *
         * @return the options
         * @throws InvalidArgumentException naming the first bad setting
         */
        public ClientOptions build() {
            requirePositive("timeout", timeout);
            requirePositive("retryBackoffMin", retryBackoffMin);
            if (retryBackoffMax.compareTo(retryBackoffMin) < 0) {
                throw new InvalidArgumentException("retryBackoffMax (" + retryBackoffMax
                        + ") must be at least retryBackoffMin (" + retryBackoffMin + ")");
            }
            if (syncSpin.isNegative() || syncSpin.compareTo(Duration.ofMillis(10)) > 0) {
                throw new InvalidArgumentException("syncSpin must be between 0 and 10 ms, got " + syncSpin);
            }
            requirePositive("maxInFlightPerServer", maxInFlightPerServer);
            requirePositive("multiOpBatchItems", multiOpBatchItems);
            if (multiOpBatchItems > MAX_MULTI_OP_BATCH_ITEMS) {
                throw new InvalidArgumentException("multiOpBatchItems must be at most " + MAX_MULTI_OP_BATCH_ITEMS
                        + " (the servers' limit per request), got " + multiOpBatchItems);
            }
            requirePositive("multiOpBatchBytes", multiOpBatchBytes);
            if (enumerateBatchObjects < 0) {
                throw new InvalidArgumentException("enumerateBatchObjects must be 0 or positive, got "
                        + enumerateBatchObjects);
            }
            return new ClientOptions(this);
        }

        private static void requirePositive(String name, Duration value) {
            if (value.isNegative() || value.isZero()) {
                throw new InvalidArgumentException(name + " must be positive, got " + value);
            }
        }

        private static void requirePositive(String name, int value) {
            if (value <= 0) {
                throw new InvalidArgumentException(name + " must be positive, got " + value);
            }
        }
    }
}
