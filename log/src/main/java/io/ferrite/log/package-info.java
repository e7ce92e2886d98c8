/**
 * The log format shared by master and backup: segments made of seglets, framed entries with
 * CRC32C checksums, segment certificates and validating iterators.
 */
package io.ferrite.log;
