/** gRPC edges of the coordinator: the coordinator service (heartbeats included), forwarding to the leader, the leader epoch, and calls to masters. */
package io.ferrite.coordinator.rpc;
