/** The control service every server runs: ping, statistics, and the coordinator's tablet assignments and drops. */
package io.ferrite.server.control;
