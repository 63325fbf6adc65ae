import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One shared vector of functions/testdata/<workload>.json. */
export interface Vector {
  name: string;
  input: unknown;
  output?: unknown;
  error?: string;
}

/** What a function answered: its output, or the error code (and HTTP status) it refused with. */
export type Answer = { ok: true; output: unknown } | { ok: false; status: number | undefined; error: string };

export type Invoker = (fn: string, input: unknown) => Promise<Answer>;

export interface Disagreement {
  workload: string;
  vector: string;
  input: unknown;
  expected: string;
  /** Every function's answer, the deviating ones marked. */
  answers: { function: string; answer: string; matches: boolean }[];
}

export function readVectors(rootDir: string, workload: string): Vector[] {
  const path = join(rootDir, 'functions', 'testdata', `${workload}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: cannot read the shared vectors (${(error as Error).message})`);
  }
  if (!Array.isArray(raw)) throw new Error(`${path}: expected an array of {name, input, output|error}`);
  return raw as Vector[];
}

/** JSON equality as parsed values: key order does not matter, 90000 equals 90000.0. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

function describeAnswer(answer: Answer): string {
  return answer.ok ? JSON.stringify(answer.output) : `error ${answer.error}${answer.status ? ` (HTTP ${answer.status})` : ''}`;
}

function matchesVector(vector: Vector, answer: Answer): boolean {
  if (vector.error !== undefined) return !answer.ok && answer.error === vector.error;
  return answer.ok && sameJson(answer.output, vector.output);
}

/**
 * Send every vector of a workload to every function of it and keep the cases where any function
 * strays from the vector's answer (so runtimes that disagree with each other always show up).
 */
export async function checkParity(
  workload: string,
  functions: readonly string[],
  vectors: readonly Vector[],
  invoke: Invoker,
): Promise<Disagreement[]> {
  const found: Disagreement[] = [];
  for (const vector of vectors) {
    const answers = await Promise.all(functions.map(async (fn) => ({ fn, answer: await invoke(fn, vector.input) })));
    if (answers.every(({ answer }) => matchesVector(vector, answer))) continue;
    found.push({
      workload,
      vector: vector.name,
      input: vector.input,
      expected: vector.error !== undefined ? `error ${vector.error}` : JSON.stringify(vector.output),
      answers: answers.map(({ fn, answer }) => ({ function: fn, answer: describeAnswer(answer), matches: matchesVector(vector, answer) })),
    });
  }
  return found;
}

/** The readable diff printed when parity fails: one block per vector, deviating lines marked. */
export function formatDisagreements(found: readonly Disagreement[], limit = 10): string[] {
  const lines: string[] = [];
  for (const d of found.slice(0, limit)) {
    lines.push(`${d.workload} / ${d.vector}: input ${truncate(JSON.stringify(d.input))}`);
    lines.push(`    expected           ${truncate(d.expected)}`);
    for (const a of d.answers) lines.push(`  ${a.matches ? ' ' : '✗'} ${a.function.padEnd(18)} ${truncate(a.answer)}`);
  }
  if (found.length > limit) lines.push(`… and ${found.length - limit} more vector(s)`);
  return lines;
}

function truncate(text: string, max = 160): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
