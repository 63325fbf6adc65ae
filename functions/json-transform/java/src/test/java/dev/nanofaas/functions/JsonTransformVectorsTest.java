package dev.nanofaas.functions;

import dev.nanofaas.testing.SharedVectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every vector of functions/testdata/json-transform.json, through the handler and Jackson serialisation. */
class JsonTransformVectorsTest {
    @TestFactory
    Stream<DynamicTest> sharedVectors() throws Exception {
        return SharedVectors.dynamicTests("json-transform-java", new JsonTransform());
    }
}
