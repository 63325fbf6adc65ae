/**
 * An interrupted command's --json document says so: `up` and `down` stopped by Ctrl-C (the signal
 * main.ts aborts) answer `interrupted: true`, exit 130, and run none of their steps.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Interrupt } from '../../src/cli/interrupt.js';
import { runInProcess } from './run-in-process.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function interrupted(): AbortSignal {
  const controller = new AbortController();
  controller.abort(new Interrupt('SIGINT'));
  return controller.signal;
}

describe('--json after Ctrl-C', () => {
  it.each([['up', '--skip-build', '--no-prometheus'], ['down']])('%s --json says interrupted and runs no step', async (...args) => {
    const state = mkdtempSync(join(tmpdir(), 'nf-interrupt-json-'));
    dirs.push(state);
    const r = await runInProcess([...args, '--json'], {
      env: { PATH: process.env.PATH, NANOFAAS_STATE_DIR: state, CI: 'true' },
      signal: interrupted(),
    });
    expect(r.code).toBe(130);
    const doc = JSON.parse(r.stdout) as { interrupted?: boolean; steps: { status: string }[] };
    expect(doc.interrupted).toBe(true);
    expect(doc.steps.filter((s) => s.status === 'done')).toEqual([]);
    expect(readdirSync(state).filter((f) => f === 'pids' || f === 'endpoints.json')).toEqual([]);
  });
});
