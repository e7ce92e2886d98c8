/**
 * The coordinator leader's side of crash recovery: deciding to recover a crashed master,
 * finding its log on the backups, partitioning its tablets, handing the partitions to recovery
 * masters and the recovered tablets to their new owners. The state lives in the cluster store
 * ({@link io.ferrite.coordinator.recovery.RecoveryStore}: ZooKeeper, or memory in tests), so a
 * new leader resumes whatever a dead one left.
 */
package io.ferrite.coordinator.recovery;
