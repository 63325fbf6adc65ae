package dev.nanofaas.functions;

import dev.nanofaas.testing.SharedVectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every vector of functions/testdata/word-stats.json, through the handler and Jackson serialisation. */
class WordStatsVectorsTest {
    @TestFactory
    Stream<DynamicTest> sharedVectors() throws Exception {
        return SharedVectors.dynamicTests("word-stats-java", new WordStats());
    }
}
