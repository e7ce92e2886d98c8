/** The Ferrite server process: its configuration, the wiring of a master's and a backup's services, and the entry point of every role. */
package io.ferrite.server;
