/** Test support shared with other modules' tests: the in-JVM cluster harness. */
package io.ferrite.server.testing;
