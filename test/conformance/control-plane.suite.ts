/**
 * The same vectors through the control plane: `node control-plane/dist/main.js` with the process
 * backend launches every catalog function, and each vector goes through POST /v1/functions/<name>:invoke.
 * One suite, run per mode: control-plane.test.ts (memory) and control-plane.nats.test.ts (NATS
 * mode, docs/design.md §3.12: the registry in a KV bucket, sync calls still in-process).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SuiteMode } from '../control-plane/suite-mode.js';
import { groupKeyOrder, loadCatalog, loadVectors, postJson, repoRoot } from './harness.js';

export function conformanceSuite(mode: SuiteMode): void {
  const catalog = loadCatalog();
  let controlPlane: ChildProcess | undefined;
  let apiUrl = '';
  let stateDir = '';
  let output = '';

  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'nanofaas-conformance-'));
    controlPlane = spawn(process.execPath, ['control-plane/dist/main.js'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        NANOFAAS_PORT: '0',
        NANOFAAS_WORKLOAD_BACKEND: 'process',
        NANOFAAS_STATE_DIR: stateDir,
        NANOFAAS_LOG_LEVEL: 'warn',
        ...mode.env(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    controlPlane.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    apiUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`control plane did not report its ports:\n${output}`)), 30_000);
      controlPlane!.once('exit', (code) => reject(new Error(`control plane exited (${code}):\n${output}`)));
      createInterface({ input: controlPlane!.stdout! }).on('line', (line) => {
        output += `${line}\n`;
        try {
          const msg = JSON.parse(line) as { msg?: string; apiUrl?: string };
          if (msg.msg === 'listening' && msg.apiUrl) {
            clearTimeout(timer);
            resolve(msg.apiUrl);
          }
        } catch {
          // a non-JSON line: keep reading
        }
      });
    });
    // Register every catalog function (the backend starts its runtime process).
    for (const fn of catalog.functions) {
      const res = await postJson(`${apiUrl}/v1/functions`, { name: fn.name, runtime: fn.runtime, handler: fn.handler, ...fn.spec });
      if (res.status !== 201) throw new Error(`registering ${fn.name}: HTTP ${res.status} ${res.text}`);
    }
  }, 120_000);

  afterAll(async () => {
    if (controlPlane && controlPlane.exitCode === null) {
      const exited = new Promise((resolve) => controlPlane!.once('exit', resolve));
      controlPlane.kill('SIGTERM');
      const timer = setTimeout(() => controlPlane!.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  }, 30_000);

  describe.each(catalog.functions)(`$name through the control plane (${mode.name} mode)`, (fn) => {
    it.each(loadVectors(fn.workload))('vector: $name', async (vector) => {
      const res = await postJson(`${apiUrl}/v1/functions/${fn.name}:invoke`, { input: vector.input });
      if (vector.error !== undefined) {
        expect(res.status, res.text).toBe(400);
        expect(res.body).toMatchObject({ status: 'error', error: vector.error, executionId: expect.any(String) });
      } else {
        expect(res.status, res.text).toBe(200);
        expect(res.body).toMatchObject({ status: 'success', executionId: expect.any(String) });
        const out = (res.body as { output: unknown }).output;
        expect(out).toEqual(vector.output);
        expect(groupKeyOrder(out)).toEqual(groupKeyOrder(vector.output));
      }
    });

    // The async path: in NATS mode (§3.12) the invocation goes through the stream and its outcome,
    // output included, through the execution KV bucket, so the vectors check that round trip too.
    it.each(loadVectors(fn.workload))('vector through :enqueue: $name', async (vector) => {
      const queued = await postJson(`${apiUrl}/v1/functions/${fn.name}:enqueue`, { input: vector.input });
      expect(queued.status, queued.text).toBe(202);
      const id = (queued.body as { executionId: string }).executionId;
      const done = await finalStatus(id);
      if (vector.error !== undefined) {
        // A 4xx of the function is not retried (§3.6): one attempt, its error recorded.
        expect(done).toMatchObject({ executionId: id, status: 'error', attempts: 1, error: { error: vector.error } });
      } else {
        expect(done).toMatchObject({ executionId: id, functionName: fn.name, status: 'success', attempts: 1, error: null });
        expect(done.output).toEqual(vector.output);
        expect(groupKeyOrder(done.output)).toEqual(groupKeyOrder(vector.output));
      }
    });
  });

  /** GET /v1/executions/{id} long-polled until the execution ends. */
  async function finalStatus(id: string): Promise<{ status: string; output?: unknown } & Record<string, unknown>> {
    for (;;) {
      const res = await fetch(`${apiUrl}/v1/executions/${id}?waitMs=20000`);
      const body = (await res.json()) as { status: string; output?: unknown };
      expect(res.status, JSON.stringify(body)).toBe(200);
      if (body.status === 'success' || body.status === 'error' || body.status === 'timeout') return body;
    }
  }
}
