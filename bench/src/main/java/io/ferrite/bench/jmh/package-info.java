/** JMH micro-benchmarks of single-threaded engine reads and writes. */
package io.ferrite.bench.jmh;
