/**
 * Checks that a text is JSON without building it. The sync hot path only needs to know that a
 * request body or a runtime's answer is JSON (both are forwarded as text), and for the small
 * bodies of a typical call JSON.parse spends most of its time building objects and interning
 * keys: about 200 ns for `{"input":{"text":"hello world test"}}` on the bench machine, against
 * about 90 ns for this scan (bench/json-scan.ts). A null only means "not shown to be JSON here":
 * callers then take the parser's path, so every refusal is still the parser's.
 */

/** Deeper nesting than this is left to the parser. */
const MAX_DEPTH = 64;

const OBJECT = 1;
const ARRAY = 2;

/** What scanJson learnt about a text beside its validity (one object, reused: the scan is synchronous). */
export interface JsonShape {
  /** One object whose only member is named exactly "input" (no escapes in the name). */
  onlyInput: boolean;
  /**
   * Some member name has an escape or is `__proto__` or `constructor`: what secure-json-parse
   * (Fastify's JSON parser) looks at before it refuses a body as prototype poisoning.
   */
  suspectKeys: boolean;
}

const stack = new Uint8Array(MAX_DEPTH);
const shape: JsonShape = { onlyInput: false, suspectKeys: false };
/** Whether the last string stringEnd read had an escape. */
let escaped = false;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);

/** End of the string that opens at `i` (the quote), or -1 if it is not a valid JSON string. */
function stringEnd(text: string, i: number): number {
  const n = text.length;
  escaped = false;
  for (i++; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -1;
    if (c === 0x5c) {
      escaped = true;
      const e = text.charCodeAt(++i);
      if (e === 0x75) {
        if (
          !(
            isHex(text.charCodeAt(i + 1)) &&
            isHex(text.charCodeAt(i + 2)) &&
            isHex(text.charCodeAt(i + 3)) &&
            isHex(text.charCodeAt(i + 4))
          )
        )
          return -1;
        i += 4;
      } else if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) {
        return -1;
      }
    }
  }
  return -1;
}

/** End of the number that starts at `i`, or -1 if it is not a valid JSON number. */
function numberEnd(text: string, i: number): number {
  if (text.charCodeAt(i) === 0x2d) i++;
  const first = text.charCodeAt(i);
  if (first === 0x30) i++;
  else if (first >= 0x31 && first <= 0x39) while (isDigit(text.charCodeAt(++i)));
  else return -1;
  if (text.charCodeAt(i) === 0x2e) {
    if (!isDigit(text.charCodeAt(++i))) return -1;
    while (isDigit(text.charCodeAt(++i)));
  }
  if ((text.charCodeAt(i) | 0x20) === 0x65) {
    const sign = text.charCodeAt(++i);
    if (sign === 0x2b || sign === 0x2d) i++;
    if (!isDigit(text.charCodeAt(i))) return -1;
    while (isDigit(text.charCodeAt(++i)));
  }
  return i;
}

function literalEnd(text: string, i: number): number {
  if (text.startsWith('true', i) || text.startsWith('null', i)) return i + 4;
  if (text.startsWith('false', i)) return i + 5;
  return -1;
}

function skipSpace(text: string, i: number): number {
  // Bounded: reading past the end makes V8 drop its in-bounds fast path for charCodeAt.
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

let topMembers = 0;
let topInput = false;
let suspectKeys = false;

/** A member's name and its colon, from the quote at `i`; the index after the colon, or -1. */
function memberName(text: string, i: number, depth: number): number {
  if (text.charCodeAt(i) !== 0x22) return -1;
  const end = stringEnd(text, i);
  if (end < 0) return -1;
  const length = end - i;
  if (escaped || (length === 11 && text.startsWith('"__proto__"', i)) || (length === 13 && text.startsWith('"constructor"', i)))
    suspectKeys = true;
  if (depth === 1) {
    topMembers++;
    topInput = length === 7 && text.startsWith('"input"', i);
  }
  const colon = skipSpace(text, end);
  return text.charCodeAt(colon) === 0x3a ? colon + 1 : -1;
}

/**
 * Whether `text` is exactly one JSON value (what JSON.parse accepts), with its shape (valid until
 * the next call). Invalid text, or nesting deeper than MAX_DEPTH, gives null.
 */
export function scanJson(text: string): JsonShape | null {
  topMembers = 0;
  topInput = false;
  suspectKeys = false;
  let depth = 0;
  let i = 0;
  for (;;) {
    // A value starts here.
    i = skipSpace(text, i);
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) {
      if (depth === MAX_DEPTH) return null;
      const object = c === 0x7b;
      stack[depth++] = object ? OBJECT : ARRAY;
      i = skipSpace(text, i + 1);
      if (text.charCodeAt(i) === (object ? 0x7d : 0x5d)) {
        i++;
        depth--;
      } else {
        if (object && (i = memberName(text, i, depth)) < 0) return null;
        continue;
      }
    } else {
      if (c === 0x22) i = stringEnd(text, i);
      else if (c === 0x2d || isDigit(c)) i = numberEnd(text, i);
      else i = literalEnd(text, i);
      if (i < 0) return null;
    }
    // A value ended here: close the containers it ends, or take the comma before the next one.
    for (;;) {
      if (depth === 0) {
        if (skipSpace(text, i) !== text.length) return null;
        shape.onlyInput = topMembers === 1 && topInput;
        shape.suspectKeys = suspectKeys;
        return shape;
      }
      i = skipSpace(text, i);
      const object = stack[depth - 1] === OBJECT;
      const next = text.charCodeAt(i);
      if (next === (object ? 0x7d : 0x5d)) {
        i++;
        depth--;
        continue;
      }
      if (next !== 0x2c) return null;
      i = skipSpace(text, i + 1);
      if (object && (i = memberName(text, i, depth)) < 0) return null;
      break;
    }
  }
}
