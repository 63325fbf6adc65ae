"""word-stats (docs/design.md §5.7, functions/testdata/README.md) for the Python runtime."""
import re
from collections import Counter

from nanofaas_runtime import InvalidInputError

# [^\W_] is exactly "general category L* or N*" ([\p{L}\p{N}] elsewhere): re's \w is
# isalpha/isdecimal/isdigit/isnumeric plus "_", and an exhaustive scan of every assigned code
# point in this interpreter's Unicode database finds no difference from unicodedata.category.
# Combining marks are not \w, so a decomposed "é" splits the word, as the vectors require.
_WORD = re.compile(r"[^\W_]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_DEFAULT_TOP_N = 10


def handle(input):
    if isinstance(input, str):
        text, top_n = input, _DEFAULT_TOP_N
    elif isinstance(input, dict):
        text = input.get("text")
        if not isinstance(text, str):
            raise InvalidInputError('"text" must be a string')
        top_n = _top_n(input.get("topN"))
    else:
        raise InvalidInputError('input must be {"text": string, "topN"?: integer} or a string')

    # Only ASCII is lower-cased; str.lower() would also fold É, Ж and ß.
    words = _WORD.findall(text.translate(_ASCII_LOWER))
    if not words:
        raise InvalidInputError("text contains no words")
    counts = Counter(words)
    total = sum(map(len, words))  # len() counts code points, as the contract wants
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))  # str order = code point order
    count = len(words)
    return {
        "wordCount": count,
        "uniqueWords": len(counts),
        "topWords": [{"word": w, "count": c} for w, c in ranked[:top_n]],
        # Round half away from zero in integers: round(1.125, 2) would give 1.12.
        "averageWordLength": ((200 * total + count) // (2 * count)) / 100,
    }


def _top_n(value):
    if value is None:
        return _DEFAULT_TOP_N
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError('"topN" must be a whole number >= 0')
    if isinstance(value, float):
        if not value.is_integer():
            raise InvalidInputError(f'"topN" must be a whole number >= 0, got {value!r}')
        value = int(value)
    if value < 0:
        raise InvalidInputError(f'"topN" must be a whole number >= 0, got {value}')
    return value
