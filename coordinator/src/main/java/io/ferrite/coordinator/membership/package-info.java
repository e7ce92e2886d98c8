/**
 * The leader's failure detector: servers heartbeat to the leader, a silent one is probed, and one
 * that stays silent is declared CRASHED only once its lease must have expired.
 */
package io.ferrite.coordinator.membership;
