/**
 * scanJson decides what the sync hot path forwards without parsing, so it must never pass a text
 * JSON.parse refuses, and never call a body plain when Fastify's parser would refuse it or the
 * schema would: checked on hand-picked edge cases and, against JSON.parse and Fastify's own
 * parser, on random JSON texts and random one-character mutations of them.
 */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { InvocationRequest } from '../../control-plane/src/contracts/index.js';
import { scanJson } from '../../control-plane/src/invocation/json-scan.js';
import { prng } from '../util/prng.js';

const fastifyParse = Fastify().getDefaultJsonParser('error', 'error');
/** What Fastify's JSON parser (secure-json-parse, poisoning refused) makes of a text. */
function fastifyParsed(text: string): { ok: true; value: unknown } | { ok: false } {
  let result: { ok: true; value: unknown } | { ok: false } = { ok: false };
  fastifyParse({} as never, text, (err, value) => {
    result = err ? { ok: false } : { ok: true, value };
  });
  return result;
}

const parses = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

const PIECES = ['a', 'é', '"', '\\', '\n', '\u0001', '\ud800', '__proto__', 'constructor', 'prototype', 'input', ' ', '/', '\u2028'];

function randomValue(random: () => number, depth: number): unknown {
  const r = random();
  if (depth > 4 || r < 0.35) {
    const k = Math.floor(random() * 7);
    if (k === 0) return null;
    if (k === 1) return random() < 0.5;
    if (k === 2) return Math.floor(random() * 2000) - 1000;
    if (k === 3) return (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
    return Array.from({ length: Math.floor(random() * 4) }, () => PIECES[Math.floor(random() * PIECES.length)]).join('');
  }
  if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(random() * 4); i > 0; i--) object[String(randomValue(random, 99))] = randomValue(random, depth + 1);
  return object;
}

/** JSON.stringify's text with JSON whitespace, and sometimes \u escapes, sprinkled in where they are allowed. */
function randomText(random: () => number): string {
  const value = random() < 0.5 ? { input: randomValue(random, 1) } : randomValue(random, 0);
  let text = JSON.stringify(value) ?? 'null';
  if (random() < 0.3) text = text.replace(/[a-z]/, (ch) => `\\u00${ch.charCodeAt(0).toString(16)}`);
  if (random() < 0.5) text = text.replace(/([,:[{])/g, (m) => (random() < 0.3 ? `${m}${' \t\r\n'[Math.floor(random() * 4)]}` : m));
  return random() < 0.2 ? ` ${text}\n` : text;
}

const MUTATION_CHARS = ['"', '\\', ',', ':', '{', '}', '[', ']', '0', '-', '.', 'e', '+', 'u', 'n', ' ', '\u0000', '\ufeff'];

function mutate(random: () => number, text: string): string {
  const at = Math.floor(random() * (text.length + 1));
  const ch = MUTATION_CHARS[Math.floor(random() * MUTATION_CHARS.length)]!;
  const r = random();
  if (r < 0.33) return text.slice(0, at) + ch + text.slice(at);
  if (r < 0.66) return text.slice(0, at) + text.slice(at + 1);
  return text.slice(0, at) + ch + text.slice(at + 1);
}

describe('scanJson', () => {
  it('agrees with JSON.parse on edge cases', () => {
    const valid = [
      '0',
      '-0',
      '1.5e+10',
      '-12.0E-3',
      '"\\u00e9\\n\\/"',
      'true',
      'false',
      'null',
      '[]',
      '{}',
      ' [ 1 , [ ] , { } ] ',
      '{"a":{"b":[1,{"c":null}]}}',
      '"\ud800"',
      '"\u2028"',
      '{"":""}',
      '{"a":1,"a":2}',
    ];
    const invalid = [
      '',
      ' ',
      '01',
      '1.',
      '.5',
      '1e',
      '+1',
      '-',
      '--1',
      '0x1',
      'NaN',
      'Infinity',
      'tru',
      'nul',
      'True',
      "'a'",
      '"a',
      '"\\x"',
      '"\\u12g4"',
      '"\u0000"',
      '"a\nb"',
      '[1,]',
      '{"a":1,}',
      '{a:1}',
      '{"a" 1}',
      '{"a":}',
      '[1 2]',
      '1 2',
      '{"a":1}}',
      '[[]',
      '\ufeff{}',
      '{"a":1}x',
      '[,1]',
      '{,}',
    ];
    for (const text of valid) expect(scanJson(text) !== null, text).toBe(true);
    for (const text of invalid) expect(scanJson(text), text).toBeNull();
    for (const text of [...valid, ...invalid]) expect(scanJson(text) !== null, text).toBe(parses(text));
  });

  it('leaves nesting deeper than 64 to JSON.parse, and passes it up to 64', () => {
    expect(scanJson(`${'['.repeat(64)}${']'.repeat(64)}`)).not.toBeNull();
    expect(scanJson(`${'['.repeat(65)}${']'.repeat(65)}`)).toBeNull();
  });

  it('tells a body of only "input" and member names Fastify would refuse or filter', () => {
    expect(scanJson('{"input":{"text":"hi"}}')).toEqual({ onlyInput: true, suspectKeys: false });
    expect(scanJson(' { "input" : [1, {"x": "__proto__"}] } ')).toEqual({ onlyInput: true, suspectKeys: false });
    expect(scanJson('{"input":1,"metadata":{}}')?.onlyInput).toBe(false);
    expect(scanJson('{"input":1,"input":2}')?.onlyInput).toBe(false);
    expect(scanJson('{"\\u0069nput":1}')).toEqual({ onlyInput: false, suspectKeys: true });
    expect(scanJson('[{"input":1}]')?.onlyInput).toBe(false);
    expect(scanJson('{"input":{"__proto__":{"x":1}}}')).toEqual({ onlyInput: true, suspectKeys: true });
    expect(scanJson('{"input":{"constructor":{"prototype":{}}}}')?.suspectKeys).toBe(true);
    // Poisoned bodies Fastify refuses, with the name spelt plainly or with escapes: never plain here.
    for (const text of [
      '{"input":{"__proto__":{"x":1}}}',
      '{"input":{"\\u005f_proto__":{"x":1}}}',
      '{"input":{"_\\u005fproto__":{"x":1}}}',
      '{"input":{"\\u0063onstructor":{"prototype":{"x":1}}}}',
    ]) {
      expect(fastifyParsed(text).ok, text).toBe(false);
      expect(scanJson(text), text).toMatchObject({ onlyInput: true, suspectKeys: true });
    }
  });

  it("the fast path's shortcut holds for the schema: any {input: <JSON>} is a valid InvocationRequest", () => {
    // invoke-fast-path skips the schema for a body scanJson calls onlyInput; if the schema ever
    // constrains `input` or requires another member, that shortcut must change with it.
    for (const input of [null, 0, -1.5, '', 'text', true, [], [1, 'a'], {}, { nested: { deep: [null] } }])
      expect(Value.Check(InvocationRequest, { input }), JSON.stringify(input)).toBe(true);
    expect(InvocationRequest.required).toEqual(['input']);
    expect(Value.Check(InvocationRequest, {})).toBe(false);
  });

  it('never passes what JSON.parse refuses, and passes what it accepts (random texts and mutations)', () => {
    const random = prng(13);
    let checked = 0;
    let plainBodies = 0;
    for (let n = 0; n < 4_000; n++) {
      const original = randomText(random);
      for (const text of [original, mutate(random, original), mutate(random, mutate(random, original))]) {
        const shape = scanJson(text);
        expect(shape !== null, JSON.stringify(text)).toBe(parses(text));
        checked++;
        if (!shape?.onlyInput || shape.suspectKeys) continue;
        // What the fast path forwards unparsed: Fastify's parser takes it, and it is {input: …}.
        const parsed = fastifyParsed(text);
        expect(parsed.ok, JSON.stringify(text)).toBe(true);
        if (parsed.ok) expect(Object.keys(parsed.value as object), JSON.stringify(text)).toEqual(['input']);
        plainBodies++;
      }
    }
    expect(checked).toBe(12_000);
    // The generator reaches the interesting case often enough to mean something.
    expect(plainBodies).toBeGreaterThan(1_000);
  });
});
