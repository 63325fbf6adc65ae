package dev.nanofaas.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nanofaas.runtime.Context;
import dev.nanofaas.runtime.Handler;
import dev.nanofaas.runtime.InvalidInputException;
import java.io.File;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;

/**
 * Every vector of the file named by the system property {@code vectors} (set by each function's
 * surefire configuration), through a handler and Jackson serialisation, as the runtime would answer.
 * Outputs are "compared as parsed JSON": numbers by value (3 equals 3.0), plus the order of object keys.
 */
public final class SharedVectors {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Comparator<JsonNode> NUMERIC = (a, b) -> {
        if (a.isNumber() && b.isNumber()) return Double.compare(a.asDouble(), b.asDouble());
        return a.equals(b) ? 0 : 1;
    };

    private SharedVectors() {}

    public static Stream<DynamicTest> dynamicTests(String functionName, Handler handler) throws Exception {
        JsonNode vectors = JSON.readTree(new File(System.getProperty("vectors")));
        assertTrue(vectors.size() >= 25, "expected at least 25 vectors, found " + vectors.size());
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode vector : vectors) {
            tests.add(DynamicTest.dynamicTest(vector.get("name").asText(), () -> run(functionName, handler, vector)));
        }
        return tests.stream();
    }

    private static void run(String functionName, Handler handler, JsonNode vector) throws Exception {
        Context ctx = Context.local(functionName, 1000);
        if (vector.has("error")) {
            assertEquals("INVALID_INPUT", vector.get("error").asText());
            assertThrows(InvalidInputException.class, () -> handler.handle(vector.get("input"), ctx));
            return;
        }
        // Serialise and re-read, as the runtime's response would be.
        JsonNode actual = JSON.readTree(JSON.writeValueAsBytes(handler.handle(vector.get("input"), ctx)));
        JsonNode expected = vector.get("output");
        assertTrue(expected.equals(NUMERIC, actual), () -> "expected " + expected + " but got " + actual);
        assertEquals(keyOrder(expected), keyOrder(actual), "object key order");
    }

    /** Every object's field names in document order, depth first. */
    static List<String> keyOrder(JsonNode node) {
        List<String> out = new ArrayList<>();
        collect(node, out);
        return out;
    }

    private static void collect(JsonNode node, List<String> out) {
        if (node.isObject()) {
            node.fieldNames().forEachRemaining(out::add);
            node.elements().forEachRemaining(child -> collect(child, out));
        } else if (node.isArray()) {
            node.elements().forEachRemaining(child -> collect(child, out));
        }
    }
}
