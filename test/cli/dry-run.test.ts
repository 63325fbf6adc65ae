/**
 * A dry run changes nothing. Against a real running local platform (control plane,
 * runtimes, Prometheus), `up --dry-run` and `down --dry-run` leave every file of the state
 * directory byte-for-byte as it was, and the platform still answers afterwards. (`down --dry-run`
 * used to delete endpoints.json; the `up` skips rewrote endpoints.json and the Prometheus config.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOwnedProcesses } from '../../src/targets/local/owned-processes.js';
import { cliEnv, hashTree, nanofaas } from './cli-process.js';

const state = mkdtempSync(join(tmpdir(), 'nanofaas-dry-'));
const env = cliEnv({ CI: 'true', NANOFAAS_STATE_DIR: state, NANOFAAS_PROMETHEUS_PORT: '0' });
// Prometheus's own database changes by itself while it runs; everything nanofaas writes is compared.
const prometheusData = (path: string) => path.startsWith(join('prometheus', 'data'));

beforeAll(async () => {
  const up = await nanofaas(['up', '--runtimes', 'node', '--skip-build', '--port', '0', '--management-port', '0', '--json'], env);
  expect(up.code, up.stderr + up.stdout).toBe(0);
}, 120_000);

afterAll(async () => {
  await nanofaas(['down'], env);
  expect(findOwnedProcesses(state)).toEqual([]);
  rmSync(state, { recursive: true, force: true });
}, 60_000);

async function platformAnswers(): Promise<void> {
  const list = await nanofaas(['functions', 'list', '--json'], env);
  expect(list.code, list.stderr).toBe(0);
  expect(list.stdout).toContain('word-stats-node');
}

describe('dry runs against a running local platform', () => {
  it('the platform is up with Prometheus (so the Prometheus skip is exercised)', () => {
    const files = Object.keys(hashTree(state));
    expect(files).toEqual(
      expect.arrayContaining([
        'endpoints.json',
        join('pids', 'control-plane.json'),
        join('pids', 'prometheus.json'),
        join('prometheus', 'prometheus.yml'),
      ]),
    );
  });

  it('down --dry-run prints the plan and changes nothing', async () => {
    const before = hashTree(state, prometheusData);
    const dry = await nanofaas(['down', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('• Forget endpoints');
    expect(dry.stdout).toContain(`rm ${join(state, 'endpoints.json')}`);
    expect(dry.stdout).toMatch(/• Stop the control plane and its runtimes\n\s+\$ kill -TERM -\d+/);
    expect(hashTree(state, prometheusData)).toEqual(before);
    await platformAnswers();
  });

  it('up --dry-run prints the plan and changes nothing', async () => {
    const before = hashTree(state, prometheusData);
    const dry = await nanofaas(['up', '--dry-run', '--runtimes', 'node', '--skip-build'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/Start the control plane \(process backend\) \(skipped: already running/);
    expect(dry.stdout).toMatch(/Start Prometheus \(skipped: already running/);
    expect(dry.stdout).toContain('POST /v1/functions word-stats-node');
    expect(hashTree(state, prometheusData)).toEqual(before);
    await platformAnswers();
  });

  it('on an empty state directory, up --dry-run creates nothing (not even logs/)', async () => {
    const other = mkdtempSync(join(tmpdir(), 'nanofaas-dry-empty-'));
    try {
      const dry = await nanofaas(['up', '--dry-run', '--runtimes', 'node', '--skip-build', '--no-prometheus'], {
        ...env,
        NANOFAAS_STATE_DIR: other,
      });
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain('• Start the control plane (process backend)');
      expect(hashTree(other)).toEqual({});
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
