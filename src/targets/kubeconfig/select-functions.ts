import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionSpecInput } from '@nanofaas/control-plane/contracts';
import type { UpOptions } from '../target.js';

/** One entry of functions/catalog.json (the one list of demo functions). */
export interface CatalogFunction {
  name: string;
  workload: string;
  runtime: string;
  image: string;
  handler: string;
  spec: Pick<FunctionSpecInput, 'timeoutMs' | 'concurrency' | 'queueSize' | 'maxRetries' | 'runtimeMode'>;
}

export function readCatalog(rootDir: string): CatalogFunction[] {
  const path = join(rootDir, 'functions', 'catalog.json');
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { functions?: unknown };
  if (!Array.isArray(parsed.functions)) throw new Error(`${path}: "functions" is not an array`);
  return parsed.functions as CatalogFunction[];
}

/** The seed's smoke payloads: one fixed request per workload, and what a good answer has. */
export const SMOKE_PAYLOADS: Record<string, { body: unknown; ok: (output: unknown) => boolean }> = {
  'word-stats': {
    body: { input: { text: 'hello world test' } },
    ok: (o) => typeof (o as { wordCount?: unknown })?.wordCount === 'number' && (o as { wordCount: number }).wordCount > 0,
  },
  'json-transform': {
    body: {
      input: {
        data: [
          { dept: 'eng', salary: 80000 },
          { dept: 'sales', salary: 70000 },
        ],
        groupBy: 'dept',
        operation: 'count',
      },
    },
    ok: (o) => typeof (o as { groups?: unknown })?.groups === 'object' && (o as { groups: unknown }).groups !== null,
  },
};

/** The catalog entries `up --functions/--runtimes` selected (all when neither is given). */
export function selectFunctions(all: readonly CatalogFunction[], options: Pick<UpOptions, 'functions' | 'runtimes'>): CatalogFunction[] {
  return all.filter(
    (fn) => (!options.functions || options.functions.includes(fn.name)) && (!options.runtimes || options.runtimes.includes(fn.runtime)),
  );
}
