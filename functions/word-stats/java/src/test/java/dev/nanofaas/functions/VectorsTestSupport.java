package dev.nanofaas.functions;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** "Compared as parsed JSON": numbers by value (3 equals 3.0), plus the order of object keys. */
final class VectorsTestSupport {
    static final Comparator<JsonNode> NUMERIC = (a, b) -> {
        if (a.isNumber() && b.isNumber()) return Double.compare(a.asDouble(), b.asDouble());
        return a.equals(b) ? 0 : 1;
    };

    private VectorsTestSupport() {}

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
