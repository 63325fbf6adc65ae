import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeBaseUrl } from '../../src/api-client/client.js';
import { StateDir } from '../../src/state/state-dir.js';
import { resolveTargetName } from '../../src/targets/index.js';
import { parseListening } from '../../src/targets/local/control-plane.js';
import { specMatches } from '../../src/targets/local/deploy-functions.js';
import { handlerArtifact } from '../../src/targets/local/build.js';
import { prometheusConfig } from '../../src/targets/local/prometheus.js';
import { isOwnedBy } from '../../src/targets/local/owned-processes.js';
import { expandEnv, nodeVersionOk } from '../../src/targets/local/toolchains.js';
import { jsonEqual, loadCatalog, specFor } from '../../src/util/catalog.js';
import { formatDuration, table } from '../../src/util/format.js';
import { ROOT_DIR } from '../../src/util/paths.js';

describe('target choice', () => {
  it('flag, then NANOFAAS_TARGET, then local', () => {
    expect(resolveTargetName(undefined, {})).toBe('local');
    expect(resolveTargetName(undefined, { NANOFAAS_TARGET: 'multipass' })).toBe('multipass');
    expect(resolveTargetName('kubeconfig', { NANOFAAS_TARGET: 'multipass' })).toBe('kubeconfig');
    expect(() => resolveTargetName('mars', {})).toThrow(/unknown target 'mars'/);
  });
});

describe('API base URL', () => {
  it('accepts what the banner prints', () => {
    expect(normalizeBaseUrl('http://10.0.0.5:30080/v1/functions')).toBe('http://10.0.0.5:30080');
    expect(normalizeBaseUrl('http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080');
    expect(() => normalizeBaseUrl('127.0.0.1:8080')).toThrow(/not an http/);
  });
});

describe('control plane listening line', () => {
  it('parses the one JSON line and ignores other output', () => {
    expect(parseListening('{"level":40,"msg":"shutting down"}')).toBeUndefined();
    expect(parseListening('listening but not JSON')).toBeUndefined();
    expect(
      parseListening(
        '{"msg":"listening","pid":1,"apiPort":41000,"managementPort":41001,"apiUrl":"http://127.0.0.1:41000","managementUrl":"http://127.0.0.1:41001"}',
      ),
    ).toEqual({
      apiPort: 41000,
      managementPort: 41001,
      apiUrl: 'http://127.0.0.1:41000',
      managementUrl: 'http://127.0.0.1:41001',
    });
  });
});

describe('registration reconciliation', () => {
  const catalog = loadCatalog(ROOT_DIR);
  const fn = catalog.functions[0]!;
  const desired = specFor(fn);
  const resolved = { ...desired, executionMode: 'DEPLOYMENT', replicas: 1, env: {} } as never;
  it('server defaults do not count as a change', () => {
    expect(specMatches(desired, resolved)).toBe(true);
  });
  it('a changed field does', () => {
    expect(specMatches({ ...desired, timeoutMs: 1234 }, resolved)).toBe(false);
    expect(specMatches({ ...desired, handler: 'elsewhere' }, resolved)).toBe(false);
  });
  it('every catalog function names an artifact path', () => {
    for (const f of catalog.functions) expect(handlerArtifact(f), f.name).toMatch(/^functions\//);
  });
});

describe('small helpers', () => {
  it('expands ${env:VAR:-default} like launch.json', () => {
    expect(expandEnv('${env:NANOFAAS_PYTHON:-/usr/bin/python3}', {})).toBe('/usr/bin/python3');
    expect(expandEnv('${env:NANOFAAS_PYTHON:-/usr/bin/python3}', { NANOFAAS_PYTHON: '/opt/py' })).toBe('/opt/py');
  });
  it('checks the Node version floor', () => {
    expect(nodeVersionOk('20.19.0')).toBe(true);
    expect(nodeVersionOk('22.0.0')).toBe(true);
    expect(nodeVersionOk('20.18.1')).toBe(false);
    expect(nodeVersionOk('18.20.4')).toBe(false);
  });
  it('compares JSON structurally', () => {
    expect(jsonEqual({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toBe(true);
    expect(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
  });
  it('formats durations and aligns coloured columns', () => {
    expect(formatDuration(12.4)).toBe('12ms');
    expect(formatDuration(3_700)).toBe('3.7s');
    expect(formatDuration(125_000)).toBe('2m5s');
    expect(
      table([
        ['a', '\u001b[32mok\u001b[39m', 'x'],
        ['long', 'no', 'y'],
      ]),
    ).toEqual(['a     \u001b[32mok\u001b[39m  x', 'long  no  y']);
  });
  it('Prometheus config scrapes the management port and the runtimes file', () => {
    const yml = prometheusConfig(41001, '/state/prometheus/runtimes.json');
    expect(yml).toContain(`targets: ['127.0.0.1:41001']`);
    expect(yml).toContain(`files: ['/state/prometheus/runtimes.json']`);
    // up --replicas 2: every replica's management port, one job (the loadtest sums over instances).
    expect(prometheusConfig([41001, 41003], '/r.json')).toContain(`targets: ['127.0.0.1:41001', '127.0.0.1:41003']`);
  });
});

describe('process ownership', () => {
  it('a pid without our marker is not ours to signal', () => {
    expect(isOwnedBy(process.pid, '/tmp/some-state-dir')).toBe(process.platform !== 'linux');
    expect(isOwnedBy(2 ** 22 + 7, '/tmp/some-state-dir')).toBe(process.platform !== 'linux');
  });
});

describe('state directory', () => {
  it('writes atomically, reads back, treats torn files as absent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nanofaas-state-'));
    try {
      const state = new StateDir(dir);
      state.saveProcess('control-plane', { pid: 1, pgid: 1, command: ['node'], log: 'x.log', startedAt: 'now' });
      expect(state.process('control-plane')?.pid).toBe(1);
      state.saveEndpoints('local', { apiUrl: 'http://127.0.0.1:1', managementUrl: 'http://127.0.0.1:2' });
      expect(state.endpoints()).toMatchObject({ target: 'local', apiUrl: 'http://127.0.0.1:1' });
      state.forgetProcess('control-plane');
      expect(state.process('control-plane')).toBeUndefined();
      state.writeJson('not closed', 'torn.json');
      expect(state.readJson('torn.json')).toBe('not closed');
      writeFileSync(state.file('torn.json'), '{"half":');
      expect(state.readJson('torn.json')).toBeUndefined();
      expect(StateDir.resolve(undefined, { NANOFAAS_STATE_DIR: dir }, '/repo').path).toBe(dir);
      expect(StateDir.resolve(undefined, {}, '/repo').path).toBe('/repo/.nanofaas');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
