/**
 * The recovery master's side of crash recovery: replaying a partition of a crashed master's
 * log, fetched from the backups, into this master's own log ({@link io.ferrite.master.recovery.PartitionReplay}),
 * and the gRPC edge the coordinator calls ({@link io.ferrite.master.recovery.MasterRecoveryServiceImpl}).
 */
package io.ferrite.master.recovery;
