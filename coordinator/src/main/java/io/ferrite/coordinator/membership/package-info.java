/** The leader's failure detector: servers whose liveness node disappears are declared CRASHED. */
package io.ferrite.coordinator.membership;
