package dev.nanofaas.functions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nanofaas.runtime.Context;
import dev.nanofaas.runtime.Handler;
import dev.nanofaas.runtime.InvalidInputException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * word-stats (docs/design.md §5.7, functions/testdata/README.md): words are maximal runs of Unicode
 * letters and numbers, only ASCII is lower-cased, lengths are in code points.
 */
public final class WordStats implements Handler {
    private static final int DEFAULT_TOP_N = 10;
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    @Override
    public Object handle(JsonNode input, Context ctx) {
        String text;
        int topN = DEFAULT_TOP_N;
        if (input.isTextual()) {
            text = input.textValue();
        } else if (input.isObject()) {
            JsonNode textNode = input.get("text");
            if (textNode == null || !textNode.isTextual()) {
                throw new InvalidInputException("\"text\" must be a string");
            }
            text = textNode.textValue();
            JsonNode topNNode = input.get("topN");
            if (topNNode != null && !topNNode.isNull()) topN = topNOf(topNNode);
        } else {
            throw new InvalidInputException("input must be {\"text\": string, \"topN\"?: integer} or a string");
        }

        Map<String, int[]> counts = new HashMap<>();
        long totalCodePoints = 0;
        int wordCount = 0;
        StringBuilder word = new StringBuilder();
        int wordLength = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (isWordCodePoint(cp)) {
                word.appendCodePoint(cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp);
                wordLength++;
            } else if (wordLength > 0) {
                counts.computeIfAbsent(word.toString(), k -> new int[1])[0]++;
                totalCodePoints += wordLength;
                wordCount++;
                word.setLength(0);
                wordLength = 0;
            }
        }
        if (wordLength > 0) {
            counts.computeIfAbsent(word.toString(), k -> new int[1])[0]++;
            totalCodePoints += wordLength;
            wordCount++;
        }
        if (wordCount == 0) throw new InvalidInputException("text contains no words");

        List<Map.Entry<String, int[]>> ranked = new ArrayList<>(counts.entrySet());
        ranked.sort((a, b) -> a.getValue()[0] != b.getValue()[0]
            ? Integer.compare(b.getValue()[0], a.getValue()[0])
            : compareCodePoints(a.getKey(), b.getKey()));
        ArrayNode topWords = NODES.arrayNode();
        for (int i = 0; i < Math.min(topN, ranked.size()); i++) {
            ObjectNode entry = topWords.addObject();
            entry.put("word", ranked.get(i).getKey());
            entry.put("count", ranked.get(i).getValue()[0]);
        }

        ObjectNode out = NODES.objectNode();
        out.put("wordCount", wordCount);
        out.put("uniqueWords", counts.size());
        out.set("topWords", topWords);
        // T/W rounded half away from zero to 2 decimals in integers; the one division is exact enough.
        long hundredths = (200 * totalCodePoints + wordCount) / (2L * wordCount);
        out.put("averageWordLength", hundredths / 100.0);
        return out;
    }

    private static int topNOf(JsonNode node) {
        if (!node.isNumber()) throw new InvalidInputException("\"topN\" must be a whole number ≥ 0");
        double value = node.asDouble();
        if (!(value >= 0) || value != Math.rint(value)) {
            throw new InvalidInputException("\"topN\" must be a whole number ≥ 0, got " + node);
        }
        return value > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) value;
    }

    /** Unicode general category L* or N* (the regex class [\p{L}\p{N}]), with an ASCII fast path. */
    static boolean isWordCodePoint(int cp) {
        if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
        switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER:
            case Character.LOWERCASE_LETTER:
            case Character.TITLECASE_LETTER:
            case Character.MODIFIER_LETTER:
            case Character.OTHER_LETTER:
            case Character.DECIMAL_DIGIT_NUMBER:
            case Character.LETTER_NUMBER:
            case Character.OTHER_NUMBER:
                return true;
            default:
                return false;
        }
    }

    /** Code point order; String.compareTo compares UTF-16 units, which misorders astral letters. */
    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) return Integer.compare(ca, cb);
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }
}
