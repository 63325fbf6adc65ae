// The real Node runtime (runtimes/node/launch.json, built dist/) launched by the process backend
// with the catalog's word-stats-node function: the descriptor format as the runtime ships it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, expect, it } from 'vitest';
import type { FunctionSpec } from '../../control-plane/src/contracts/index.js';
import { createProcessBackend } from '../../control-plane/src/workloads/process/index.js';
import { isAlive, silentLogger } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
let stateDir: string | undefined;
let close: (() => Promise<void>) | undefined;

afterAll(async () => {
  await close?.();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

it('launches word-stats-node from the catalog with the real node runtime', async () => {
  const catalog = JSON.parse(await readFile(path.join(repoRoot, 'functions', 'catalog.json'), 'utf8')) as {
    functions: Array<{ name: string; runtime: FunctionSpec['runtime']; handler: string; spec: Partial<FunctionSpec> }>;
  };
  const entry = catalog.functions.find((f) => f.name === 'word-stats-node');
  expect(entry).toBeDefined();
  const spec: FunctionSpec = {
    timeoutMs: 30_000,
    concurrency: 4,
    queueSize: 100,
    maxRetries: 3,
    runtimeMode: 'HTTP',
    executionMode: 'LOCAL',
    replicas: 1,
    ...entry!.spec,
    name: entry!.name,
    runtime: entry!.runtime,
    handler: entry!.handler,
  };
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
