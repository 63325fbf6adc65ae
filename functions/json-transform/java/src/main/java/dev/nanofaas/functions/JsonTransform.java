package dev.nanofaas.functions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nanofaas.runtime.Context;
import dev.nanofaas.runtime.Handler;
import dev.nanofaas.runtime.InvalidInputException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * json-transform (docs/design.md §5.7, functions/testdata/README.md): group records by a field and
 * count/sum/avg/min/max a numeric field, keys in first-seen order, written as JavaScript would.
 */
public final class JsonTransform implements Handler {
    private static final Set<String> OPERATIONS = Set.of("count", "sum", "avg", "min", "max");
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    @Override
    public Object handle(JsonNode input, Context ctx) {
        if (!input.isObject()) throw new InvalidInputException("input must be an object {data, groupBy, operation?, valueField?}");
        JsonNode data = input.get("data");
        if (data == null || !data.isArray()) throw new InvalidInputException("\"data\" must be an array of objects");
        JsonNode groupByNode = input.get("groupBy");
        if (groupByNode == null || !groupByNode.isTextual()) throw new InvalidInputException("\"groupBy\" must be a string");
        String groupBy = groupByNode.textValue();
        String operation = operationOf(input.get("operation"));
        JsonNode valueFieldNode = input.get("valueField");
        String valueField = null;
        if (valueFieldNode != null && !valueFieldNode.isNull()) {
            if (!valueFieldNode.isTextual()) throw new InvalidInputException("\"valueField\" must be a string");
            valueField = valueFieldNode.textValue();
        } else if (!operation.equals("count")) {
            throw new InvalidInputException("\"valueField\" is required for operation " + operation);
        }

        Map<String, Group> groups = new LinkedHashMap<>();
        for (int i = 0; i < data.size(); i++) {
            JsonNode record = data.get(i);
            if (!record.isObject()) throw new InvalidInputException("data[" + i + "] must be an object");
            Group group = groups.computeIfAbsent(keyOf(record.get(groupBy)), k -> new Group());
            if (valueField == null) {
                group.count++;
                continue;
            }
            JsonNode value = record.get(valueField);
            if (value != null && value.isNumber()) group.add(value.asDouble());
        }

        ObjectNode result = NODES.objectNode();
        for (Map.Entry<String, Group> entry : groups.entrySet()) {
            result.set(entry.getKey(), entry.getValue().result(operation));
        }
        ObjectNode out = NODES.objectNode();
        out.put("groupBy", groupBy);
        out.put("operation", operation);
        out.set("groups", result);
        return out;
    }

    private static String operationOf(JsonNode node) {
        if (node == null || node.isNull()) return "count";
        if (!node.isTextual() || !OPERATIONS.contains(node.textValue())) {
            throw new InvalidInputException("\"operation\" must be one of count, sum, avg, min, max; got " + node);
        }
        return node.textValue();
    }

    /** The group key as JavaScript's String(value) / JSON.stringify would write it. */
    static String keyOf(JsonNode value) {
        if (value == null || value.isNull()) return "null";
        if (value.isTextual()) return value.textValue();
        if (value.isBoolean()) return value.booleanValue() ? "true" : "false";
        if (value.isNumber()) return JsFormat.number(value.asDouble());
        return JsFormat.json(value);
    }

    /** Running aggregate of one group; {@code count} is rows or numeric values, per the README. */
    private static final class Group {
        long count;
        double sum;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;

        void add(double value) {
            count++;
            sum += value;
            if (value < min) min = value;
            if (value > max) max = value;
        }

        JsonNode result(String operation) {
            if (operation.equals("count")) return NODES.numberNode(count);
            if (count == 0) return NODES.nullNode();
            return switch (operation) {
                case "sum" -> number(sum);
                case "avg" -> number(sum / count);
                case "min" -> number(min);
                default -> number(max);
            };
        }

        /** Whole values go out as integers (80000, not 80000.0), like JavaScript's JSON. */
        private static JsonNode number(double value) {
            if (value == Math.rint(value) && Math.abs(value) < 0x1p53) return NODES.numberNode((long) value);
            return NODES.numberNode(value);
        }
    }
}
