import { defineFunction, InvalidInputError } from '@nanofaas/runtime-node';

/** word-stats (docs/design.md §5.7; exact rules in functions/testdata/README.md). */
export interface WordStatsInput {
  text: string;
  topN?: number | null;
}

export interface WordStats {
  wordCount: number;
  uniqueWords: number;
  topWords: { word: string; count: number }[];
  averageWordLength: number;
}

const WORD = /[\p{L}\p{N}]+/gu;
const ASCII_UPPER = /[A-Z]/;
const DEFAULT_TOP_N = 10;

export default defineFunction((input: WordStatsInput | string): WordStats => {
  const { text, topN } = parseInput(input);
  const counts = new Map<string, number>();
  let wordCount = 0;
  let codePoints = 0;
  for (const match of text.matchAll(WORD)) {
    const word = ASCII_UPPER.test(match[0]) ? asciiLowerCase(match[0]) : match[0];
    counts.set(word, (counts.get(word) ?? 0) + 1);
    wordCount += 1;
    codePoints += codePointLength(word);
  }
  if (wordCount === 0) throw new InvalidInputError('text contains no words (letters or digits)');

  const topWords = [...counts]
    .sort(([a, ca], [b, cb]) => cb - ca || compareCodePoints(a, b))
    .slice(0, topN)
    .map(([word, count]) => ({ word, count }));
  return {
    wordCount,
    uniqueWords: counts.size,
    topWords,
    // Integer arithmetic, so half-way cases round away from zero with no float error.
    averageWordLength: Math.floor((200 * codePoints + wordCount) / (2 * wordCount)) / 100,
  };
});

function parseInput(input: unknown): { text: string; topN: number } {
  if (typeof input === 'string') return { text: input, topN: DEFAULT_TOP_N };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidInputError('input must be an object {text, topN?} or a string');
  }
  const { text, topN } = input as Record<string, unknown>;
  if (typeof text !== 'string') throw new InvalidInputError('text must be a string');
  if (topN === undefined || topN === null) return { text, topN: DEFAULT_TOP_N };
  if (typeof topN !== 'number' || !Number.isInteger(topN) || topN < 0) {
    throw new InvalidInputError('topN must be a whole number ≥ 0');
  }
  return { text, topN };
}

/** Only A–Z change: toLowerCase() would also fold É, Ж and friends. */
function asciiLowerCase(word: string): string {
  return word.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

function codePointLength(word: string): number {
  let n = word.length;
  for (let i = 0; i < word.length; i++) {
    const unit = word.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) n -= 1;
  }
  return n;
}

/**
 * Code point order. JS `<` compares UTF-16 units, which puts astral characters (surrogates
 * 0xD800–0xDFFF) before BMP characters from U+E000 up; a surrogate unit always stands for a
 * larger code point than any BMP unit, so it wins whenever only one side has one.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
