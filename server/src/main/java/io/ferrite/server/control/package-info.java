/** The control service every server runs: ping, statistics, and the coordinator's tablet assignments and drops, fenced by the coordinator epoch. */
package io.ferrite.server.control;
