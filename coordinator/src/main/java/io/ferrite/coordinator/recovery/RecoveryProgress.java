package io.ferrite.coordinator.recovery;

/**
 * Where one master's recovery stands, as the leader reports it (cluster status, metrics).
 *
 * @param masterId           the crashed master
 * @param phase              what it is doing or waiting for, in words
 * @param partitions         partitions planned (0 until the log was found)
 * @param partitionsDone     partitions recovered and handed over
 * @param bytesReplayed      entry bytes the recovery masters replayed
 * @param startedAtMillis    when this leader started working on it (wall clock)
 */
public record RecoveryProgress(long masterId, String phase, int partitions, int partitionsDone, long bytesReplayed,
                               long startedAtMillis) {
}
