/** The master's data service over gRPC: edge validation, status mapping, enumeration streams and the multiplexed stream. */
package io.ferrite.server.data;
