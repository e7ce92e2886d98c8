/**
 * Where keys live: the coordinator client (any coordinator for reads, the leader for
 * mutations) and the per-table cache of tablet maps that routes a key hash to its master.
 */
package io.ferrite.client.routing;
