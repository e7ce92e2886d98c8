/** A master's object store: operations on objects in log-structured memory, and its configuration. */
package io.ferrite.master;
