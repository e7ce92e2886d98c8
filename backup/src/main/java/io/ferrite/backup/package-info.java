/**
 * The backup service: replicas of masters' log segments received over Aeron, buffered in
 * memory-mapped files, flushed to disk, reloaded and verified on restart, and read back for
 * recovery.
 */
package io.ferrite.backup;
