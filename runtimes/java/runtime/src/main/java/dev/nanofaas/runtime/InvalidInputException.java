package dev.nanofaas.runtime;

/**
 * Thrown by a handler that rejects its input; the runtime answers 400
 * {@code {"error":"INVALID_INPUT","message":...}}. Unchecked so helpers deep in a handler can
 * throw it without every signature declaring it.
 */
public class InvalidInputException extends RuntimeException {
    public InvalidInputException(String message) {
        super(message);
    }
}
