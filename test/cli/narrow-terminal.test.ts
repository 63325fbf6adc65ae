/**
 * Under `script` a terminal reports 0 columns, and the spinner renderer then wrapped
 * every line into one character per line. Below 40 columns the plain renderer is used: whole
 * lines, no cursor games. A real pseudo-terminal, `stty cols 0` inside it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cliEnv, nanofaasInPty } from './cli-process.js';

const state = mkdtempSync(join(tmpdir(), 'nanofaas-cols-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));

it.each([0, 30])('a %i-column terminal gets whole lines from the plain renderer', async (columns) => {
  // `down` on an empty state directory: a real pipeline whose steps are all skipped.
  const run = nanofaasInPty(['--state-dir', state, 'down'], { columns, env: cliEnv({ TERM: 'xterm' }) });
  expect(await run.exit).toBe(0);
  const output = run.output();
  expect(output).toContain('Stop the control plane and its runtimes');
  expect(output).toContain('nothing was running');
  expect(output).not.toContain('\x1b[?25l');
});
