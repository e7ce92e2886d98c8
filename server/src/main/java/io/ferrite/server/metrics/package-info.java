/** Micrometer meters of a server and the Prometheus endpoint every process serves. */
package io.ferrite.server.metrics;
