/**
 * A server's part in replication: the Aeron transport it runs or joins, and the wiring of the
 * backup service and the master's replica manager as its settings ask.
 */
package io.ferrite.server.replication;
