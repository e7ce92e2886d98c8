/** The pool of 64 KiB seglets carved from one off-heap region per master (DRAM or a mapped file). */
package io.ferrite.master.memory;
