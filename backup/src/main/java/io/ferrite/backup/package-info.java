/**
 * The backup service: replicas of masters' log segments received over Aeron, buffered in
 * memory-mapped files, flushed to disk, reloaded and verified on restart, reconciled with their
 * masters, and read back for recovery; its gRPC edges ({@code ListReplicas}/{@code ReadReplica},
 * the recovery reads) live here too.
 */
package io.ferrite.backup;
