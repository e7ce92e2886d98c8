package io.ferrite.coordinator.rpc;

import io.ferrite.proto.v1.HeartbeatRequest;
import io.ferrite.proto.v1.HeartbeatResponse;

/** The leader's side of heartbeats (the failure detector); called on a gRPC thread, never blocks. */
@FunctionalInterface
public interface HeartbeatEndpoint {
    /** Answers a heartbeat received now (see {@code HeartbeatResponse} in coordinator.proto). */
    HeartbeatResponse receive(HeartbeatRequest request);
}
