/** Layered settings (flags over environment over a properties file) and the parsing of sizes and durations. */
package io.ferrite.server.config;
