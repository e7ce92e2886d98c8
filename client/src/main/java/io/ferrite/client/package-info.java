/**
 * The Ferrite Java SDK: {@link io.ferrite.client.Ferrite#connect(String)} gives a thread-safe
 * {@link io.ferrite.client.FerriteClient}, whose {@link io.ferrite.client.Table} handles read and
 * write objects with synchronous and {@link java.util.concurrent.CompletableFuture} methods.
 */
package io.ferrite.client;
