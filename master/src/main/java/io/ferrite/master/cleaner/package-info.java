/** The two-level log cleaner (compaction and combined cleaning) and the balancer that drives it. */
package io.ferrite.master.cleaner;
