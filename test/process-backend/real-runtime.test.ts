// The real Node runtime (runtimes/node/launch.json, built dist/) launched by the process backend
// with the catalog's word-stats-node function: the descriptor format as the runtime ships it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, expect, it } from 'vitest';
import { createProcessBackend } from '../../control-plane/src/workloads/process/index.js';
import { loadCatalog, repoRoot, specFor } from '../conformance/harness.js';
import { isAlive, silentLogger } from './helpers.js';

let stateDir: string | undefined;
let close: (() => Promise<void>) | undefined;

afterAll(async () => {
  await close?.();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

it('launches word-stats-node from the catalog with the real node runtime', async () => {
  const entry = loadCatalog().functions.find((f) => f.name === 'word-stats-node');
  expect(entry).toBeDefined();
  const spec = specFor(entry!);
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'nf-state-'));
  const backend = createProcessBackend({ rootDir: repoRoot, stateDir, logger: silentLogger });
  close = () => backend.close();

  await backend.provision(spec);
  await backend.waitReady(spec.name, 20_000);
  const url = backend.endpoints(spec.name)[0]!.url;
  const res = await request(`${url}/invoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input: { text: 'b a b', topN: 1 } }),
  });
  expect(res.statusCode).toBe(200);
  const output = (await res.body.json()) as { wordCount: number; uniqueWords: number; topWords: unknown };
  expect(output).toMatchObject({ wordCount: 3, uniqueWords: 2, topWords: [{ word: 'b', count: 2 }] });

  // The backend writes a header with the pid of every process it starts into the function's log.
  const log = await readFile(path.join(stateDir, 'logs', `fn-${spec.name}.log`), 'utf8');
  const pid = Number(/replica 0 pid (\d+) port/.exec(log)?.[1]);
  expect(isAlive(pid)).toBe(true);
  await backend.close();
  expect(backend.endpoints(spec.name)).toEqual([]);
  expect(isAlive(pid)).toBe(false);
});
