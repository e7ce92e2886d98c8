/** The {@code ./ferrite bench} command line: the engine workload benchmark and the JMH runner. */
package io.ferrite.bench;
