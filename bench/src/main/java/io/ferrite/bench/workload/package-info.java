/** The changing-size workloads of the log-structured memory paper (FAST'14), run against one engine. */
package io.ferrite.bench.workload;
