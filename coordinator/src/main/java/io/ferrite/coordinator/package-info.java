/** The coordinator process: its configuration, lifecycle, leader election and the coordinator service. */
package io.ferrite.coordinator;
