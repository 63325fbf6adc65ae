/**
 * The Engine's event stream drops (dockerd restarted, socket cut) while a function container dies:
 * the backend must notice the death once it reconnects. The control plane reaches the Engine
 * through a unix socket proxy in this process, which the test cuts (every connection closed, new
 * ones refused) and restores; the container is killed with the real socket in between.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, until, type RunningControlPlane } from '../control-plane/helpers.js';
import {
  docker,
  inspect,
  NODE_IMAGE,
  ownedContainers,
  removeOwned,
  requireImages,
  startDockerControlPlane,
  uniqueOwner,
} from './helpers.js';

const owner = uniqueOwner();
const dir = mkdtempSync(join(tmpdir(), 'nanofaas-events-test-'));
const proxyPath = join(dir, 'docker.sock');
const ENGINE = '/var/run/docker.sock';
const open = new Set<net.Socket>();
let refusing = false;
let cp: RunningControlPlane | undefined;

const proxy = net.createServer((client) => {
  if (refusing) return void client.destroy();
  const upstream = net.connect(ENGINE);
  open.add(client).add(upstream);
  const close = () => {
    client.destroy();
    upstream.destroy();
    open.delete(client);
    open.delete(upstream);
  };
  client.on('error', close).on('close', close);
  upstream.on('error', close).on('close', close);
  client.pipe(upstream).pipe(client);
});

beforeAll(async () => {
  await requireImages(NODE_IMAGE);
  await new Promise<void>((resolve) => proxy.listen(proxyPath, resolve));
});

afterAll(async () => {
  await cp?.stop('SIGKILL');
  for (const s of open) s.destroy();
  await new Promise((resolve) => proxy.close(resolve));
  rmSync(dir, { recursive: true, force: true });
  await removeOwned(owner);
  expect(await ownedContainers(owner)).toEqual([]);
});

describe('docker backend: Engine event stream cut', () => {
  it('learns of a death that happened while it was disconnected, and replaces the container', async () => {
    cp = await startDockerControlPlane(owner, { NANOFAAS_DOCKER_SOCKET: proxyPath });
    expect((await call(cp.apiUrl, 'POST', '/v1/functions', { name: 'ws', image: NODE_IMAGE })).status).toBe(201);
    expect((await call(cp.apiUrl, 'GET', '/v1/functions/ws?waitMs=30000')).body.status).toMatchObject({ state: 'READY' });
    const name = `nanofaas-${owner}-fn-ws-0`;
    const before = await inspect(name);

    refusing = true;
    for (const s of open) s.destroy();
    await docker('kill', before.Id);
    expect(await docker('wait', before.Id)).toBe('137');
    refusing = false;

    const status = await until(
      async () => {
        const s = (await call(cp!.apiUrl, 'GET', '/v1/functions/ws')).body?.status;
        return s?.state === 'READY' && /^1 restart/.test(s.message ?? '') ? s : undefined;
      },
      30_000,
      'the killed container to be replaced',
    );
    expect(status.message).toBe('1 restart (last: a container exited with code 137)');
    const after = await inspect(name);
    expect(after.Id).not.toBe(before.Id);
    expect((await call(cp.apiUrl, 'POST', '/v1/functions/ws:invoke', { input: 'back again' })).status).toBe(200);
    expect(cp.output.some((l) => l.includes('Engine event stream ended; reconnecting'))).toBe(true);
    expect(await cp.stop('SIGTERM')).toBe(0);
    expect(await ownedContainers(owner)).toEqual([]);
  });
});
