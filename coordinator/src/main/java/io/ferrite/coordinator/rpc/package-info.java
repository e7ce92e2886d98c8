/** gRPC edges of the coordinator: the coordinator service, forwarding to the leader, and calls to masters. */
package io.ferrite.coordinator.rpc;
