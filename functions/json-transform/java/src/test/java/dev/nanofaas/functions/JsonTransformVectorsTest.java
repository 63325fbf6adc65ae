package dev.nanofaas.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nanofaas.runtime.Context;
import dev.nanofaas.runtime.InvalidInputException;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every vector of functions/testdata/json-transform.json, through the handler and Jackson serialisation. */
class JsonTransformVectorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final JsonTransform handler = new JsonTransform();

    @TestFactory
    Stream<DynamicTest> sharedVectors() throws Exception {
        JsonNode vectors = JSON.readTree(new File(System.getProperty("vectors")));
        assertTrue(vectors.size() >= 25, "expected at least 25 vectors, found " + vectors.size());
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode vector : vectors) {
            tests.add(DynamicTest.dynamicTest(vector.get("name").asText(), () -> run(vector)));
        }
        return tests.stream();
    }

    private void run(JsonNode vector) throws Exception {
        Context ctx = Context.local("json-transform-java", 1000);
        if (vector.has("error")) {
            assertEquals("INVALID_INPUT", vector.get("error").asText());
            assertThrows(InvalidInputException.class, () -> handler.handle(vector.get("input"), ctx));
            return;
        }
        // Serialise and re-read, as the runtime's response would be.
        JsonNode actual = JSON.readTree(JSON.writeValueAsBytes(handler.handle(vector.get("input"), ctx)));
        JsonNode expected = vector.get("output");
        assertTrue(expected.equals(VectorsTestSupport.NUMERIC, actual), () -> "expected " + expected + " but got " + actual);
        assertEquals(VectorsTestSupport.keyOrder(expected), VectorsTestSupport.keyOrder(actual), "object key order");
    }
}
