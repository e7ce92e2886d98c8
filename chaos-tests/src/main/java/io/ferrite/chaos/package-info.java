/**
 * The chaos suite: a Ferrite cluster in containers built from {@code deploy/} (host networking,
 * one 127.0.0.x address per container), a workload that records a history, a seeded fault
 * schedule, and the checkers run on every history (durability, linearizability, availability).
 */
package io.ferrite.chaos;
