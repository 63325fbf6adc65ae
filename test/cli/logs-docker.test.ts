/**
 * `nanofaas logs` on the docker target, through the real bin/nanofaas, against a real control
 * plane on the docker backend and the real Engine: the containers it labels for this state
 * directory's owner, one prefix per replica, --tail per replica, --since as the Engine's own cut,
 * and the function's replicas (endpoint, restarts) in `functions describe`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerId } from '../../src/targets/docker/owner.js';
import { call, type RunningControlPlane, until } from '../control-plane/helpers.js';
import { docker, NODE_IMAGE, removeOwned, requireImages, startDockerControlPlane } from '../docker-backend/helpers.js';
import { nanofaas } from '../e2e/helpers.js';

let cp: RunningControlPlane | undefined;
let stateDir: string;
let owner: string;
let env: NodeJS.ProcessEnv;

const cli = (args: readonly string[]) => nanofaas(args, { env, timeoutMs: 60_000 });
const readyReplicas = async () => (await call(cp!.apiUrl, 'GET', '/v1/functions/words')).body?.status?.readyReplicas as number;
const lines = (stdout: string) => stdout.split('\n').filter(Boolean);

beforeAll(async () => {
  await requireImages(NODE_IMAGE);
  stateDir = mkdtempSync(join(tmpdir(), 'nf-cli-logs-docker-'));
  // The docker target finds the containers by the owner label of its state directory.
  owner = ownerId(stateDir);
  cp = await startDockerControlPlane(owner);
  env = { ...process.env, NANOFAAS_URL: cp.apiUrl, NANOFAAS_STATE_DIR: stateDir, NANOFAAS_TARGET: 'docker', NO_COLOR: '1' };
  delete env.NANOFAAS_API_TOKEN;
  delete env.NANOFAAS_API_TOKEN_FILE;
  const reg = await call(cp.apiUrl, 'POST', '/v1/functions', { name: 'words', image: NODE_IMAGE, replicas: 2 });
  expect(reg.status, reg.text).toBe(201);
  await until(async () => (await readyReplicas()) === 2, 60_000, '2 replicas ready');
}, 120_000);

afterAll(async () => {
  await cp?.stop('SIGKILL');
  if (owner) await removeOwned(owner);
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('logs (docker target, real Engine)', () => {
  it("prints every replica's container log, each line prefixed with its replica; --tail per replica", async () => {
    const all = await cli(['logs', 'words']);
    expect(all.code, all.stderr).toBe(0);
    for (const replica of [0, 1]) {
      expect(lines(all.stdout).filter((l) => l.startsWith(`[replica ${replica}] `) && l.includes('runtime listening'))).toHaveLength(1);
    }
    expect(lines(all.stdout).every((l) => /^\[replica [01]\] /.test(l))).toBe(true);

    const tail = await cli(['--json', 'logs', 'words', '--tail', '1']);
    expect(tail.code, tail.stderr).toBe(0);
    const doc = JSON.parse(tail.stdout) as { source: string; lines: string[] };
    expect(doc.source).toMatch(/^docker logs \S+ \S+$/);
    expect(doc.lines.map((l) => l.slice(0, 12)).sort()).toEqual(['[replica 0] ', '[replica 1] ']);
  });

  it("--since is the Engine's cut: a replica started after it is all there is", async () => {
    const everything = await cli(['logs', 'words', '--since', '1h']);
    expect(everything.code, everything.stderr).toBe(0);
    expect(lines(everything.stdout).sort()).toEqual(lines((await cli(['logs', 'words'])).stdout).sort());

    const cut = new Date();
    expect((await call(cp!.apiUrl, 'PUT', '/v1/functions/words/replicas', { replicas: 3 })).status).toBe(200);
    await until(async () => (await readyReplicas()) === 3, 60_000, '3 replicas ready');
    const since = await cli(['--json', 'logs', 'words', '--since', cut.toISOString()]);
    expect(since.code, since.stderr).toBe(0);
    const doc = JSON.parse(since.stdout) as { since: string; lines: string[] };
    expect(doc.since).toBe(cut.toISOString());
    // Idle replicas 0 and 1 wrote nothing since; replica 2 wrote its start.
    expect(doc.lines.length).toBeGreaterThan(0);
    expect(doc.lines.every((l) => l.startsWith('[replica 2] '))).toBe(true);
    expect(doc.lines.some((l) => l.includes('runtime listening'))).toBe(true);

    const future = await cli(['logs', 'words', '--since', new Date(Date.now() + 3_600_000).toISOString()]);
    expect(future.code, future.stderr).toBe(0);
    expect(future.stdout).toBe('');
  });

  it('functions describe: each container replica with its endpoint', async () => {
    const r = await cli(['--json', 'functions', 'describe', 'words']);
    expect(r.code, r.stderr).toBe(0);
    const instances = JSON.parse(r.stdout).function.status.instances as { index: number; ready: boolean; url?: string; restarts: number }[];
    expect(instances.map((i) => [i.index, i.ready, i.restarts])).toEqual([
      [0, true, 0],
      [1, true, 0],
      [2, true, 0],
    ]);
    for (const i of instances) expect(i.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // A container killed under the backend: replaced, counted, and the last error after that.
    await docker('kill', `nanofaas-${owner}-fn-words-1`);
    await until(
      async () => {
        const view = (await call(cp!.apiUrl, 'GET', '/v1/functions/words')).body;
        const replica = view?.status?.instances?.[1];
        return replica?.restarts === 1 && replica.ready && view.status.readyReplicas === 3 ? true : undefined;
      },
      60_000,
      'replica 1 replaced',
    );
    const after = await cli(['functions', 'describe', 'words']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/^ {4}#1 {2}ready {5}http:\/\/127\.0\.0\.1:\d+ {2}1 restart$/m);
    expect(after.stdout).toMatch(/^ {2}last error: replica 1 died \(.+\) \(\d{4}-\d\d-\d\dT[\d:.]+Z, replica 1\)$/m);
  });
});
