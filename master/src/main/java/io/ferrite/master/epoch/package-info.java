/** Epoch-based reclamation: memory is reused only after every operation that might read it has finished. */
package io.ferrite.master.epoch;
