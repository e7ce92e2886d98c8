/**
 * The {@code bench compare} report: Markdown with a targets table and every figure, PNG charts
 * (JFreeChart, headless) and the rows as JSON, all computed from the measured
 * {@link io.ferrite.bench.compare.CompareRow}s. Memory and recovery rows carry op {@code ALL}.
 */
package io.ferrite.bench.compare.report;
