/**
 * The docker backend for real: a control plane (`control-plane/dist/main.js`) with
 * NANOFAAS_WORKLOAD_BACKEND=docker on the local Docker Engine, running the word-stats images.
 * Every container is checked with `docker` itself, not through the backend's own view.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, until, type RunningControlPlane } from '../control-plane/helpers.js';
import {
  inspect,
  NODE_IMAGE,
  ownedContainers,
  PYTHON_IMAGE,
  removeOwned,
  requireImages,
  startDockerControlPlane,
  uniqueOwner,
} from './helpers.js';

const owner = uniqueOwner();
const planes: RunningControlPlane[] = [];

beforeAll(() => requireImages(NODE_IMAGE, PYTHON_IMAGE));

// Each test starts from no container of this owner, so one failure cannot cascade into the next.
afterEach(async () => {
  for (const cp of planes.splice(0)) await cp.stop('SIGKILL');
  await removeOwned(owner);
  expect(await ownedContainers(owner)).toEqual([]);
});

async function start(env: Record<string, string> = {}): Promise<RunningControlPlane> {
  const cp = await startDockerControlPlane(owner, env);
  planes.push(cp);
  return cp;
}

/** The function's status once it left PENDING: the API's long-poll answers on the backend's change event. */
async function settled(base: string, name: string): Promise<any> {
  const view = await call(base, 'GET', `/v1/functions/${name}?waitMs=30000`);
  expect(view.status, view.text).toBe(200);
  return view.body.status;
}

/** Until every replica is ready. The API has no event for that, so this polls the status with a bound. */
function allReady(base: string, name: string, replicas: number): Promise<any> {
  return until(
    async () => {
      const status = (await call(base, 'GET', `/v1/functions/${name}`)).body?.status;
      return status?.state === 'READY' && status.readyReplicas === replicas ? status : undefined;
    },
    30_000,
    `${replicas} ready replicas of ${name}`,
  );
}

const sentence = { input: 'the quick brown fox jumps over the lazy dog the end' };

describe('docker backend', () => {
  it('runs a function as a labelled, read-only, non-root container on the host network and invokes it', async () => {
    const cp = await start();
    const reg = await call(cp.apiUrl, 'POST', '/v1/functions', {
      name: 'ws-node',
      image: NODE_IMAGE,
      env: { HOST: '0.0.0.0', GREETING: 'hi' },
    });
    expect(reg.status, reg.text).toBe(201);
    expect(await settled(cp.apiUrl, 'ws-node')).toMatchObject({ state: 'READY', replicas: 1, readyReplicas: 1 });

    const answer = await call(cp.apiUrl, 'POST', '/v1/functions/ws-node:invoke', sentence);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toMatchObject({ status: 'success', output: { wordCount: 11, uniqueWords: 9 } });

    const name = `nanofaas-${owner}-fn-ws-node-0`;
    expect(await ownedContainers(owner, 'dev.nanofaas.component=function')).toEqual([name]);
    const c = await inspect(name);
    expect(c.State.Running).toBe(true);
    expect(c.Config.Labels).toMatchObject({
      'dev.nanofaas.owner': owner,
      'dev.nanofaas.component': 'function',
      'dev.nanofaas.function': 'ws-node',
      'dev.nanofaas.replica': '0',
    });
    expect(c.Config.User).toBe('10001:10001');
    expect(c.HostConfig).toMatchObject({ NetworkMode: 'host', ReadonlyRootfs: true, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'] });
    expect(Object.keys(c.HostConfig.Tmpfs ?? {})).toEqual(['/tmp']);
    // spec.env reaches the function, but cannot move it off 127.0.0.1.
    expect(c.Config.Env).toEqual(expect.arrayContaining(['FUNCTION_NAME=ws-node', 'GREETING=hi', 'HOST=127.0.0.1']));
    expect(c.Config.Env).not.toContain('HOST=0.0.0.0');
    const port = c.Config.Env.find((e) => e.startsWith('PORT='))?.slice(5);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    // Inside: uid 10001, a root filesystem it cannot write, a /tmp it can.
    const probe = await import('./helpers.js').then((h) =>
      h.docker(
        'exec',
        name,
        'node',
        '-e',
        "const fs=require('fs');let ro='writable';try{fs.writeFileSync('/x','')}catch(e){ro=e.code}fs.writeFileSync('/tmp/x','');console.log(process.getuid(), ro)",
      ),
    );
    expect(probe).toBe('10001 EROFS');

    const del = await call(cp.apiUrl, 'DELETE', '/v1/functions/ws-node');
    expect(del.status, del.text).toBe(204);
    expect(await ownedContainers(owner)).toEqual([]);
  });

  it('scales up and down, replacing nothing that stays, and deprovisioning leaves no container', async () => {
    const cp = await start();
    expect((await call(cp.apiUrl, 'POST', '/v1/functions', { name: 'ws-py', image: PYTHON_IMAGE, replicas: 1 })).status).toBe(201);
    expect(await settled(cp.apiUrl, 'ws-py')).toMatchObject({ state: 'READY', readyReplicas: 1 });
    const first = (await inspect(`nanofaas-${owner}-fn-ws-py-0`)).Id;

    const up = await call(cp.apiUrl, 'PUT', '/v1/functions/ws-py/replicas', { replicas: 3 });
    expect(up.status, up.text).toBe(200);
    // Scaling up is accepted at once (the replicas start in the background): wait for them, then look.
    await allReady(cp.apiUrl, 'ws-py', 3);
    expect(await ownedContainers(owner)).toEqual([0, 1, 2].map((i) => `nanofaas-${owner}-fn-ws-py-${i}`));
    expect((await inspect(`nanofaas-${owner}-fn-ws-py-0`)).Id).toBe(first);
    // Every replica answers on its own port; calls spread over them.
    const ports = await Promise.all(
      [0, 1, 2].map(async (i) => (await inspect(`nanofaas-${owner}-fn-ws-py-${i}`)).Config.Env.find((e) => e.startsWith('PORT='))),
    );
    expect(new Set(ports).size).toBe(3);
    const answers = await Promise.all(Array.from({ length: 12 }, () => call(cp.apiUrl, 'POST', '/v1/functions/ws-py:invoke', sentence)));
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));

    const down = await call(cp.apiUrl, 'PUT', '/v1/functions/ws-py/replicas', { replicas: 1 });
    expect(down.status, down.text).toBe(200);
    // The call returns once the removed containers are gone.
    expect(await ownedContainers(owner)).toHaveLength(1);
    expect((await call(cp.apiUrl, 'POST', '/v1/functions/ws-py:invoke', sentence)).status).toBe(200);
    const kept = (await ownedContainers(owner))[0] as string;
    if (kept.endsWith('-0')) expect((await inspect(kept)).Id).toBe(first);

    expect((await call(cp.apiUrl, 'DELETE', '/v1/functions/ws-py')).status).toBe(204);
    expect(await ownedContainers(owner)).toEqual([]);
  });

  it('removes its containers on SIGTERM, and a new control plane removes those a killed one left', async () => {
    const cp = await start();
    expect((await call(cp.apiUrl, 'POST', '/v1/functions', { name: 'ws-a', image: NODE_IMAGE, replicas: 2 })).status).toBe(201);
    await allReady(cp.apiUrl, 'ws-a', 2);
    expect(await ownedContainers(owner)).toHaveLength(2);
    expect(await cp.stop('SIGTERM')).toBe(0);
    expect(await ownedContainers(owner)).toEqual([]);

    const killed = await start();
    expect((await call(killed.apiUrl, 'POST', '/v1/functions', { name: 'ws-b', image: NODE_IMAGE })).status).toBe(201);
    expect(await settled(killed.apiUrl, 'ws-b')).toMatchObject({ state: 'READY' });
    await killed.stop('SIGKILL');
    const orphan = `nanofaas-${owner}-fn-ws-b-0`;
    expect(await ownedContainers(owner)).toEqual([orphan]);
    const orphanId = (await inspect(orphan)).Id;

    // Same owner, empty registry (another state dir): the orphan goes before anything is created.
    const next = await start();
    expect((await call(next.apiUrl, 'POST', '/v1/functions', { name: 'ws-c', image: NODE_IMAGE })).status).toBe(201);
    // The sweep is done before a registration is answered; the new container starts in the background.
    await expect(inspect(orphanId)).rejects.toThrow();
    expect(await settled(next.apiUrl, 'ws-c')).toMatchObject({ state: 'READY' });
    expect(await ownedContainers(owner)).toEqual([`nanofaas-${owner}-fn-ws-c-0`]);
    expect(await next.stop('SIGTERM')).toBe(0);
    expect(await ownedContainers(owner)).toEqual([]);
  });

  it('reports a container that cannot start as FAILED with its last words, and refuses a spec without an image', async () => {
    const cp = await start({ NANOFAAS_DOCKER_STARTUP_TIMEOUT_MS: '20000' });
    const noImage = await call(cp.apiUrl, 'POST', '/v1/functions', { name: 'no-image', runtime: 'node', handler: 'x.js' });
    expect(noImage.status, noImage.text).toBe(400);
    expect(noImage.body).toMatchObject({ error: 'VALIDATION_ERROR', message: expect.stringMatching(/no image/) });

    // The node runtime exits at once when its handler does not exist.
    const reg = await call(cp.apiUrl, 'POST', '/v1/functions', { name: 'broken', image: NODE_IMAGE, handler: '/nowhere/handler.js' });
    expect(reg.status, reg.text).toBe(201);
    const status = await settled(cp.apiUrl, 'broken');
    expect(status.state).toBe('FAILED');
    expect(status.message).toMatch(/^replica 0 exited with code \d+ before \/health answered 200/);
    expect(status.logTail.join('\n')).toMatch(/nowhere/);
    const invoke = await call(cp.apiUrl, 'POST', '/v1/functions/broken:invoke', sentence);
    expect(invoke.status).toBe(503);
    expect(invoke.body.error).toBe('FUNCTION_UNAVAILABLE');
    expect((await call(cp.apiUrl, 'DELETE', '/v1/functions/broken')).status).toBe(204);
    expect(await ownedContainers(owner)).toEqual([]);
  });

  it('answers 503 BACKEND_UNAVAILABLE naming the socket when the Engine cannot be reached', async () => {
    const socket = `/tmp/nanofaas-no-engine-${process.pid}.sock`;
    const cp = await start({ NANOFAAS_DOCKER_SOCKET: socket });
    const reg = await call(cp.apiUrl, 'POST', '/v1/functions', { name: 'ws-x', image: NODE_IMAGE });
    expect(reg.status, reg.text).toBe(503);
    expect(reg.headers.get('content-type')).toMatch(/application\/json/);
    expect(reg.body).toEqual({
      error: 'BACKEND_UNAVAILABLE',
      message: `the docker backend is not available: the Docker Engine at unix://${socket} is unreachable (ping): no such socket (is dockerd running? set NANOFAAS_DOCKER_SOCKET if it listens elsewhere)`,
    });
    const ready = await call(cp.managementUrl, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(await cp.stop('SIGTERM')).toBe(0);
  });

  it('refuses to start without an owner', async () => {
    const { startControlPlane } = await import('../control-plane/helpers.js');
    await expect(startControlPlane({ NANOFAAS_WORKLOAD_BACKEND: 'docker' })).rejects.toThrow(/NANOFAAS_DOCKER_OWNER/);
  });
});
