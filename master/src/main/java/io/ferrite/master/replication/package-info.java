/**
 * The master's end of replication: a replication agent that sends every segment of the log to
 * its backups over Aeron and tells writers (and readers) when log bytes are durable.
 */
package io.ferrite.master.replication;
