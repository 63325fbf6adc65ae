package dev.nanofaas.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** Expected strings were produced by Node's String(n) / JSON.stringify. */
class JsFormatTest {
    @Test
    void numbersMatchJavaScriptStringOfN() {
        Object[][] cases = {
            {0.1, "0.1"}, {1.0 / 3, "0.3333333333333333"}, {123e-20, "1.23e-18"}, {5e-324, "5e-324"},
            {1.7976931348623157e308, "1.7976931348623157e+308"}, {123456789012345680000.0, "123456789012345680000"},
            {1e21, "1e+21"}, {999999999999999900000.0, "999999999999999900000"}, {0.000001, "0.000001"},
            {0.0000012345, "0.0000012345"}, {1.5e-7, "1.5e-7"}, {-2.5, "-2.5"}, {9007199254740994.0, "9007199254740994"},
            {4.35, "4.35"}, {0.30000000000000004, "0.30000000000000004"}, {1e300, "1e+300"}, {-1e-300, "-1e-300"},
            // JDK 17's Double.toString prints 2.82879384806159008E17 here: not the shortest digits.
            {2.82879384806159e17, "282879384806159000"}, {-0.0, "0"}, {7.0, "7"},
        };
        for (Object[] c : cases) assertEquals(c[1], JsFormat.number((Double) c[0]), "String(" + c[0] + ")");
    }

    @Test
    void compactJsonLikeJsonStringify() throws Exception {
        var node = new ObjectMapper().readTree("{\"b\":[1.0,-0,2.50,\"\\u0001\\n\\\"é\"],\"a\":{\"x\":null,\"y\":true}}");
        assertEquals("{\"b\":[1,0,2.5,\"\\u0001\\n\\\"é\"],\"a\":{\"x\":null,\"y\":true}}", JsFormat.json(node));
    }
}
