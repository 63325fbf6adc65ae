/**
 * An image that is not on the Engine is pulled from its registry before the first container is
 * created: a real registry (Debian's docker-registry, plain HTTP on 127.0.0.1, which the Engine
 * allows without TLS) holds a copy of the node image under a name the Engine does not have.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../control-plane/src/workloads/process/free-port.js';
import { call, until, type RunningControlPlane } from '../control-plane/helpers.js';
import { docker, NODE_IMAGE, ownedContainers, removeOwned, requireImages, startDockerControlPlane, uniqueOwner } from './helpers.js';

const owner = uniqueOwner();
const dir = mkdtempSync(join(tmpdir(), 'nanofaas-pull-test-'));
let registry: ChildProcess | undefined;
let cp: RunningControlPlane | undefined;
let ref = '';

beforeAll(async () => {
  await requireImages(NODE_IMAGE);
  const port = await freePort();
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) =>
    registry?.once('error', (err) =>
      reject(new Error(`docker-registry could not start (apt-get install docker-registry): ${err.message}`)),
    ),
  );
  await Promise.race([
    failed,
    until(
      async () => (await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined))?.status === 200,
      15_000,
      'the registry to answer /v2/',
    ),
  ]);
  ref = `127.0.0.1:${port}/nanofaas-test/${owner}:1`;
  await docker('tag', NODE_IMAGE, ref);
  await docker('push', '-q', ref);
  await docker('rmi', ref);
}, 120_000);

afterAll(async () => {
  await cp?.stop('SIGKILL');
  await removeOwned(owner);
  expect(await ownedContainers(owner)).toEqual([]);
  if (ref) await docker('rmi', '-f', ref).catch(() => '');
  registry?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('docker backend: images', () => {
  it('pulls an image the Engine does not have, and says why when it cannot', async () => {
    await expect(docker('image', 'inspect', ref)).rejects.toThrow();
    cp = await startDockerControlPlane(owner);
    expect((await call(cp.apiUrl, 'POST', '/v1/functions', { name: 'pulled', image: ref })).status).toBe(201);
    const view = await call(cp.apiUrl, 'GET', '/v1/functions/pulled?waitMs=30000');
    expect(view.body.status).toMatchObject({ state: 'READY', readyReplicas: 1 });
    expect(await docker('image', 'inspect', '--format', '{{.Id}}', ref)).toBe(
      await docker('image', 'inspect', '--format', '{{.Id}}', NODE_IMAGE),
    );
    const answer = await call(cp.apiUrl, 'POST', '/v1/functions/pulled:invoke', { input: 'pulled and run' });
    expect(answer.status, answer.text).toBe(200);

    const missing = ref.replace(/:1$/, ':no-such-tag');
    expect((await call(cp.apiUrl, 'POST', '/v1/functions', { name: 'missing', image: missing })).status).toBe(201);
    const failed = (await call(cp.apiUrl, 'GET', '/v1/functions/missing?waitMs=30000')).body.status;
    expect(failed.state).toBe('FAILED');
    expect(failed.message).toMatch(
      new RegExp(`^replica 0 could not get its image: .* pull image ${missing.replace(/[.]/g, '\\.')}: .*manifest unknown`),
    );
    expect(await cp.stop('SIGTERM')).toBe(0);
    expect(await ownedContainers(owner)).toEqual([]);
  });
});
