package io.ferrite.coordinator.rpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Marks calls a follower forwarded to the leader (header {@code ferrite-forwarded-by:
 * <follower host:port>}), so that a coordinator that is no longer leader answers such a call
 * with NOT_LEADER instead of forwarding it again: a mutation is forwarded at most once.
 */
public final class Forwarding implements ServerInterceptor {
    public static final Metadata.Key<String> HEADER =
            Metadata.Key.of("ferrite-forwarded-by", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<String> FORWARDED_BY = Context.key("ferrite-forwarded-by");

    /** Whether the call being served was forwarded by another coordinator. */
    public static boolean isForwarded() {
        return FORWARDED_BY.get() != null;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        String by = headers.get(HEADER);
        if (by == null) {
            return next.startCall(call, headers);
        }
        return Contexts.interceptCall(Context.current().withValue(FORWARDED_BY, by), call, headers, next);
    }
}
