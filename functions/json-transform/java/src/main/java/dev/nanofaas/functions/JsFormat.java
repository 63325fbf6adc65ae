package dev.nanofaas.functions;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Iterator;
import java.util.Map;

/** JavaScript's Number::toString and JSON.stringify, for group keys that must match the node runtime. */
final class JsFormat {
    private JsFormat() {}

    /** ECMAScript Number::toString(10): shortest round-trip digits, plain between 1e-6 and 1e21. */
    static String number(double value) {
        if (Double.isNaN(value)) return "NaN";
        if (value == 0) return "0";
        if (Double.isInfinite(value)) return value > 0 ? "Infinity" : "-Infinity";
        if (value < 0) return "-" + number(-value);

        // Digits and exponent of the shortest decimal that reads back as this double.
        String digits = null;
        int exponent = 0; // value = 0.digits × 10^exponent
        for (int precision = 1; precision <= 17; precision++) {
            // Round the exact binary value (not Formatter's pre-rounded digits) to `precision` digits.
            BigDecimal candidate = new BigDecimal(value).round(new MathContext(precision, RoundingMode.HALF_EVEN));
            if (candidate.doubleValue() == value) {
                BigDecimal decimal = candidate.stripTrailingZeros();
                digits = decimal.unscaledValue().toString();
                exponent = digits.length() - decimal.scale();
                break;
            }
        }
        if (digits == null) throw new IllegalStateException("no round-trip representation for " + value);

        int k = digits.length();
        int n = exponent;
        if (k <= n && n <= 21) return digits + "0".repeat(n - k);
        if (0 < n && n <= 21) return digits.substring(0, n) + "." + digits.substring(n);
        if (-6 < n && n <= 0) return "0." + "0".repeat(-n) + digits;
        int e = n - 1;
        String sign = e < 0 ? "-" : "+";
        String mantissa = k == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return mantissa + "e" + sign + Math.abs(e);
    }

    /** JSON.stringify of a parsed value: compact, keys in input order, JavaScript escapes and numbers. */
    static String json(JsonNode node) {
        StringBuilder out = new StringBuilder();
        write(node, out);
        return out.toString();
    }

    private static void write(JsonNode node, StringBuilder out) {
        if (node.isObject()) {
            out.append('{');
            boolean first = true;
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                if (!first) out.append(',');
                first = false;
                string(entry.getKey(), out);
                out.append(':');
                write(entry.getValue(), out);
            }
            out.append('}');
        } else if (node.isArray()) {
            out.append('[');
            for (int i = 0; i < node.size(); i++) {
                if (i > 0) out.append(',');
                write(node.get(i), out);
            }
            out.append(']');
        } else if (node.isTextual()) {
            string(node.textValue(), out);
        } else if (node.isNumber()) {
            double value = node.asDouble();
            out.append(Double.isFinite(value) ? number(value) : "null");
        } else if (node.isBoolean()) {
            out.append(node.booleanValue());
        } else {
            out.append("null");
        }
    }

    /** JSON.stringify string quoting: short escapes, \\u00xx for other controls and lone surrogates. */
    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    boolean loneSurrogate = Character.isHighSurrogate(c)
                        ? !(i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1)))
                        : Character.isLowSurrogate(c) && !(i > 0 && Character.isHighSurrogate(s.charAt(i - 1)));
                    if (c < 0x20 || loneSurrogate) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
