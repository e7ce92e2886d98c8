/** {@code ferrite local}: a supervisor that runs a whole cluster on this machine as separate processes. */
package io.ferrite.server.local;
