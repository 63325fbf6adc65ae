/**
 * The local registry for real: Debian's docker-registry started by ensureRegistry on a free port
 * under a temp state directory, reused while it answers, used by the real docker engine (push, then
 * pull back by reference), and stopped by stopRegistry without leaving a process.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImages } from '../../src/images/build.js';
import { pushImages, toRegistry } from '../../src/images/push.js';
import { ensureRegistry, registryHealthy, registryPlan, stopRegistry } from '../../src/images/registry.js';
import { StepFailure } from '../../src/pipeline/step.js';
import { StateDir } from '../../src/state/state-dir.js';
import { LocalHost } from '../../src/targets/host/local-host.js';
import { runLocal } from '../../src/targets/host/run-local.js';
import { isAlive } from '../../src/util/process.js';
import { freePort } from '../../src/util/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'nanofaas-registry-'));
const state = new StateDir(join(dir, 'state'));
const context = join(dir, 'context');
const image = `nanofaas-test/registry-${process.pid}:1`;
let address = '';
/** Every pid the registry had, checked gone at the end whatever failed. */
const pids = new Set<number>();
const tags = new Set<string>([image]);

async function docker(...args: string[]) {
  return runLocal(['docker', ...args], { timeoutMs: 120_000 });
}

beforeAll(async () => {
  address = `localhost:${await freePort()}`;
  // A tiny image of its own (one file on scratch), so the push moves a few bytes.
  mkdirSync(context, { recursive: true });
  writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
  writeFileSync(join(context, 'hello.txt'), `hello ${process.pid} ${Date.now()}\n`);
  await buildImages([{ image, dockerfile: 'Dockerfile', context: '.', buildArgs: {} }], { host: new LocalHost(), rootDir: context });
});

afterAll(async () => {
  await stopRegistry({ state });
  for (const tag of tags) await docker('rmi', tag);
  rmSync(dir, { recursive: true, force: true });
  for (const pid of pids) expect(isAlive(pid)).toBe(false);
});

describe('ensureRegistry with Debian docker-registry', () => {
  it('starts one on 127.0.0.1 with our config, reuses it while it answers, and docker pushes to it and pulls back', async () => {
    expect(await registryHealthy(address)).toBe(false);
    const started = await ensureRegistry({ state, address });
    expect(started).toMatchObject({ address, url: `http://127.0.0.1:${address.split(':')[1]}`, how: 'process', ownedByThisStateDir: true });
    pids.add(started.pid!);
    expect(isAlive(started.pid)).toBe(true);
    expect(state.process('registry')).toMatchObject({ pid: started.pid, url: started.url });
    const config = readFileSync(state.file('registry', 'config.yml'), 'utf8');
    expect(config).toContain(`addr: 127.0.0.1:${address.split(':')[1]}`);
    expect(config).toContain(`rootdirectory: ${JSON.stringify(state.file('registry', 'data'))}`);
    expect(config).not.toContain('auth');
    expect(await registryHealthy(address)).toBe(true);

    const again = await ensureRegistry({ state, address });
    expect(again).toMatchObject({ how: 'reused', pid: started.pid, ownedByThisStateDir: true });

    const [pushed] = await pushImages(toRegistry(address, [image]), { host: new LocalHost() });
    const ref = `${address}/${image}`;
    tags.add(ref);
    expect(pushed).toMatchObject({ ref, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    const id = (await docker('image', 'inspect', '--format', '{{.Id}}', image)).stdout.trim();
    expect((await docker('rmi', ref)).exitCode).toBe(0);
    expect((await docker('image', 'inspect', ref)).exitCode).not.toBe(0);
    const pulled = await docker('pull', ref);
    expect(pulled.exitCode, pulled.stderr).toBe(0);
    expect((await docker('image', 'inspect', '--format', '{{.Id}}', ref)).stdout.trim()).toBe(id);
    // A second push of the same image: the registry has every layer and the manifest already.
    const [warm] = await pushImages([{ source: ref, ref }], { host: new LocalHost() });
    expect(warm!.digest).toBe(pushed!.digest);
  }, 120_000);

  it('stopRegistry stops what this state dir started and forgets it; a second stop finds nothing', async () => {
    const pid = state.process('registry')?.pid;
    expect(pid).toBeDefined();
    expect(await stopRegistry({ state })).toBe(true);
    expect(isAlive(pid)).toBe(false);
    expect(state.process('registry')).toBeUndefined();
    expect(await registryHealthy(address)).toBe(false);
    expect(await stopRegistry({ state })).toBe(false);
  }, 60_000);

  it('a registry it did not start is reused but never stopped', async () => {
    const other = new StateDir(join(dir, 'other'));
    const theirs = await ensureRegistry({ state: other, address });
    pids.add(theirs.pid!);
    try {
      const reused = await ensureRegistry({ state, address });
      expect(reused).toMatchObject({ how: 'reused', ownedByThisStateDir: false });
      expect(reused.pid).toBeUndefined();
      expect(await stopRegistry({ state })).toBe(false);
      expect(isAlive(theirs.pid)).toBe(true);
    } finally {
      expect(await stopRegistry({ state: other })).toBe(true);
    }
  }, 60_000);

  it('without docker-registry on PATH: a registry image run by docker, host network, 127.0.0.1 only; stop removes the container', async () => {
    // Stands in for registry:2 (which cannot be pulled here): Debian's binary, the same entrypoint contract.
    const standInContext = mkdtempSync(join(dir, 'stand-in-'));
    copyFileSync('/usr/bin/docker-registry', join(standInContext, 'registry'));
    writeFileSync(
      join(standInContext, 'Dockerfile'),
      'FROM debian:bookworm-slim\nCOPY registry /bin/registry\nENTRYPOINT ["/bin/registry", "serve", "/etc/docker/registry/config.yml"]\n',
    );
    const fallbackImage = `nanofaas-test/registry-stand-in-${process.pid}:1`;
    tags.add(fallbackImage);
    await buildImages([{ image: fallbackImage, dockerfile: 'Dockerfile', context: '.', buildArgs: {} }], {
      host: new LocalHost(),
      rootDir: standInContext,
    });
    const fallback = new StateDir(join(dir, 'fallback'));
    const at = `localhost:${await freePort()}`;
    const env = { PATH: mkdtempSync(join(dir, 'no-registry-binary-')) };
    try {
      const started = await ensureRegistry({ state: fallback, address: at, env, fallbackImage });
      expect(started).toMatchObject({ how: 'container', container: `nanofaas-registry-${at.split(':')[1]}`, ownedByThisStateDir: true });
      const inspect = await docker('inspect', '--format', '{{.HostConfig.NetworkMode}} {{.State.Running}}', started.container!);
      expect(inspect.stdout.trim()).toBe('host true');
      expect(readFileSync(fallback.file('registry', 'container-config.yml'), 'utf8')).toContain(`addr: 127.0.0.1:${at.split(':')[1]}`);
      expect(await ensureRegistry({ state: fallback, address: at, env, fallbackImage })).toMatchObject({
        how: 'reused',
        container: started.container,
        ownedByThisStateDir: true,
      });
      const [pushed] = await pushImages(toRegistry(at, [image]), { host: new LocalHost() });
      tags.add(pushed!.ref);
      expect(pushed!.digest).toMatch(/^sha256:/);
      expect(await stopRegistry({ state: fallback })).toBe(true);
      expect((await docker('inspect', started.container!)).exitCode).not.toBe(0);
      expect(await registryHealthy(at)).toBe(false);
    } finally {
      await stopRegistry({ state: fallback });
    }
  }, 120_000);

  it('neither docker-registry nor a docker engine: one line saying how to get one; the plan says what would start', async () => {
    const empty = mkdtempSync(join(dir, 'empty-path-'));
    const env = { PATH: empty };
    const docker = [join(empty, 'docker')];
    const error = await ensureRegistry({ state, address, env, docker }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepFailure);
    expect((error as StepFailure).message).toBe(
      `no registry answers at ${address}, and neither docker-registry nor a Docker engine is here to start one`,
    );
    expect((error as StepFailure).hint).toContain('apt-get install docker-registry');
    expect(registryPlan({ state, address, env, docker }).join('\n')).toContain(`${docker[0]} run -d --name nanofaas-registry-`);
    expect(registryPlan({ state, address }).join('\n')).toContain(`docker-registry serve ${state.file('registry', 'config.yml')}`);
  });
});
