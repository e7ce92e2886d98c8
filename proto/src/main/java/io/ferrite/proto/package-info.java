/** Hand-written parts of the wire contract that every client and server share (the key hash). */
package io.ferrite.proto;
