/** The control service every server runs: ping, statistics, the coordinator's tablet assignments and drops, fenced by the coordinator epoch, and the backup's replica reads, handed to the backup. */
package io.ferrite.server.control;
