package dev.nanofaas.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;

/** Writing fixed-length responses and the one error body shape {@code {error, message}}. */
final class Responses {
    static final ObjectMapper JSON = new ObjectMapper();

    private Responses() {}

    /**
     * Loads Jackson's parser and serialisers before the port opens, so the first invocation (and
     * a first timeout, answered from the timer thread) does not pay for class loading.
     */
    static void warmUp() {
        try {
            JSON.writeValueAsBytes(JSON.readTree("{\"input\":{\"a\":[1,2.5,\"x\",true,null]},\"metadata\":{}}"));
            errorBody("WARM_UP", "warm-up");
        } catch (IOException e) {
            throw new IllegalStateException("Jackson cannot round-trip a constant document", e);
        }
    }

    static void send(HttpExchange exchange, int status, String contentType, byte[] body) {
        try (exchange) {
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        } catch (IOException e) {
            // The client went away; nothing useful can be done with this exchange.
        }
    }

    static void json(HttpExchange exchange, int status, byte[] body) {
        send(exchange, status, "application/json", body);
    }

    static byte[] errorBody(String code, String message) {
        ObjectNode body = JSON.createObjectNode();
        body.put("error", code);
        body.put("message", message);
        try {
            return JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException("serialising an ObjectNode of two strings cannot fail", e);
        }
    }

    static void error(HttpExchange exchange, int status, String code, String message) {
        json(exchange, status, errorBody(code, message));
    }
}
