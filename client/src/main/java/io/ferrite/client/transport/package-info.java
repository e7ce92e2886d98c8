/**
 * Connections to masters: one cached channel per address and one long-lived multiplexed
 * {@code DataService.Stream} per master, with unary calls as the fallback.
 */
package io.ferrite.client.transport;
