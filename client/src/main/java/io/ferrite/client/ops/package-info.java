/**
 * Operations with their retry logic: single-key calls, multi-key calls split by owning
 * master, and resumable enumeration; plus the runtime they share (scheduler, connections).
 */
package io.ferrite.client.ops;
