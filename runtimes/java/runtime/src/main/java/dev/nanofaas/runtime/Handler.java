package dev.nanofaas.runtime;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What a function author implements. The runtime instantiates the class named by HANDLER once
 * (public no-argument constructor) and calls {@link #handle} concurrently, so implementations
 * must be thread-safe.
 *
 * <p>The return value is serialised with Jackson: a {@link JsonNode}, a {@code Map}, a record or
 * any bean works. Throw {@link InvalidInputException} to reject the input (HTTP 400,
 * {@code INVALID_INPUT}); any other exception is a function failure (HTTP 500,
 * {@code FUNCTION_ERROR}).
 */
@FunctionalInterface
public interface Handler {
    Object handle(JsonNode input, Context ctx) throws Exception;
}
