/**
 * The master's data service over gRPC: edge validation, status mapping, enumeration streams and the multiplexed
 * stream, with what it needs of the server (lease, metrics, fault reporting) behind narrow interfaces.
 */
package io.ferrite.master.data;
