/** Server membership as a server sees it: registering under a stable name, liveness, and watching the server list. */
package io.ferrite.coordinator.registry;
