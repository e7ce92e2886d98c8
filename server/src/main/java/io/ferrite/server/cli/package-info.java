/** {@code ferrite cli}: table administration, cluster information and single-key data commands through the Java SDK. */
package io.ferrite.server.cli;
