package io.ferrite.bench.compare.hazelcast;

/**
 * What losing one member (SIGKILL) cost a Hazelcast cluster, timed from the kill.
 *
 * @param serviceMs        until every key read back as a whole record through a client; -1 if
 *                         some never did ({@code lostKeys > 0})
 * @param safeMs           until a surviving member saw the victim gone and reported the cluster
 *                         safe (backups promoted, lost backups re-created, no migration running)
 * @param victimEntries    primary entries the victim owned just before the kill
 * @param victimEntryBytes Hazelcast's memory cost of those entries
 * @param lostKeys         keys absent (or not a whole record) once the cluster was safe again
 */
public record MemberLoss(long serviceMs, long safeMs, long victimEntries, long victimEntryBytes, long lostKeys) {
}
