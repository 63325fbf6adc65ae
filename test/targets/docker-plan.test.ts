/**
 * The docker target's dry-run plans show every docker argv exactly, and a dry run asks the engine
 * nothing: a FAKE `docker` on PATH (the recording fake of the other plan tests, not the real CLI)
 * logs every call, and the log stays empty. A second FAKE docker whose engine does not answer
 * shows the preflight's one-line failure.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/pipeline/run.js';
import { createTarget } from '../../src/targets/docker/index.js';
import { checkContainerEnv, controlPlaneRunArgs, forwardedEnv } from '../../src/targets/docker/control-plane.js';
import { UsageError } from '../../src/cli/errors.js';
import { StateDir } from '../../src/state/state-dir.js';
import { ownerId } from '../../src/targets/docker/owner.js';
import { which } from '../../src/util/process.js';
import type { DownContext, Target, UpContext } from '../../src/targets/target.js';
import { World } from './harness.js';

const worlds: World[] = [];
afterEach(() => {
  for (const w of worlds.splice(0)) w.cleanup();
});

/** A world whose `docker` is the recording fake, and whose engine socket is a file of the world. */
function dockerWorld(extra: Record<string, string> = {}): { world: World; target: Target; socket: string } {
  const world = new World().shadow('docker');
  worlds.push(world);
  const socket = join(world.dir, 'docker.sock');
  writeFileSync(socket, '');
  const env = world.env({ DOCKER_HOST: `unix://${socket}`, LOCAL_REGISTRY: 'localhost:5999', ...extra });
  const target = createTarget({ rootDir: world.repo, state: world.state, env, suggest: (c) => `nanofaas ${c}` });
  return { world, target, socket };
}

async function planOf(target: Target, options: { apiPort?: number; managementPort?: number; functions?: string[] } = {}) {
  const ctx: UpContext = { functions: [], notes: [] };
  const result = await runPipeline(target.upSteps({ skipBuild: false, prometheus: true, ...options }), ctx, {
    renderer: 'silent',
    dryRun: true,
    write: () => {},
  });
  return { result, ctx, lines: result.steps.flatMap((s) => (Array.isArray(s.detail) ? s.detail : [])) };
}

describe('docker target dry runs', () => {
  it('up --dry-run shows the exact docker argv of every step and runs no docker command', async () => {
    const { world, target, socket } = dockerWorld();
    const { result, lines } = await planOf(target, { apiPort: 18080, managementPort: 18081, functions: ['word-stats-node'] });
    expect(result.ok).toBe(true);
    const owner = ownerId(world.state.path);
    const gid = statSync(socket).gid;
    expect(lines).toContain(
      `docker run -d --name nanofaas-${owner}-control-plane --label dev.nanofaas.owner=${owner} --label dev.nanofaas.component=control-plane ` +
        '--label dev.nanofaas.api-port=18080 --label dev.nanofaas.management-port=18081 --network host --read-only --tmpfs /tmp ' +
        `--user 10001:10001 --group-add ${gid} -v ${socket}:/var/run/docker.sock ` +
        `--mount type=volume,source=nanofaas-${owner}-state,target=/var/lib/nanofaas,volume-label=dev.nanofaas.owner=${owner} --restart unless-stopped ` +
        `-e NANOFAAS_HOST=127.0.0.1 -e NANOFAAS_PORT=18080 -e NANOFAAS_MANAGEMENT_PORT=18081 -e NANOFAAS_WORKLOAD_BACKEND=docker -e NANOFAAS_DOCKER_OWNER=${owner} ` +
        "-e NANOFAAS_STATE_DIR=/var/lib/nanofaas --label 'dev.nanofaas.config=<hash of these settings>' localhost:5999/nanofaas/control-plane:0.1.0",
    );
    expect(lines).toContain(`docker rm -f nanofaas-${owner}-control-plane   (when one runs with another image or settings)`);
    expect(lines).toContain("docker info --format '{{.ServerVersion}}'");
    // Build and push: only the control plane and the selected function, tagged and pushed under the registry.
    expect(lines.filter((l) => l.startsWith('docker build '))).toHaveLength(2);
    expect(lines).toContain('docker tag nanofaas/word-stats-node:0.1.0 localhost:5999/nanofaas/word-stats-node:0.1.0');
    expect(lines).toContain('docker push localhost:5999/nanofaas/word-stats-node:0.1.0');
    expect(lines).toContain('docker push localhost:5999/nanofaas/control-plane:0.1.0');
    expect(lines.some((l) => l.includes('word-stats-python'))).toBe(false);
    expect(lines).toContain(
      'POST /v1/functions word-stats-node (image localhost:5999/nanofaas/word-stats-node:0.1.0), then POST /v1/functions/word-stats-node:invoke with a test vector',
    );
    // The docker on PATH is the recording fake, and it was never called.
    expect(which('docker', world.env())).toBe(join(world.bin, 'docker'));
    expect(world.calls()).toEqual([]);
    // Nothing written either: no endpoints, no records.
    expect(existsSync(world.state.path) ? readdirSync(world.state.path) : []).toEqual([]);
  });

  it('down --dry-run shows the container removals by owner label and runs no docker command', async () => {
    const { world, target } = dockerWorld();
    const owner = ownerId(world.state.path);
    const ctx: DownContext = { stopped: [], notes: [] };
    const result = await runPipeline(target.downSteps({}), ctx, { renderer: 'silent', dryRun: true, write: () => {} });
    expect(result.ok).toBe(true);
    const byTitle = Object.fromEntries(result.steps.map((s) => [s.title, s]));
    expect(byTitle['Stop the control plane container']?.detail).toEqual([
      `docker stop --time 20 nanofaas-${owner}-control-plane   (on SIGTERM it removes its function containers)`,
      `docker rm -f nanofaas-${owner}-control-plane`,
    ]);
    expect(byTitle['Remove the function containers']?.detail).toEqual([
      `docker ps -aq --filter label=dev.nanofaas.owner=${owner}`,
      'docker rm -f <each id it lists>',
    ]);
    expect(byTitle["Remove the control plane's state volume"]?.detail).toEqual([
      `docker volume ls -q --filter label=dev.nanofaas.owner=${owner}`,
      'docker volume rm <each one it lists>',
    ]);
    // The registry stays unless asked; the control plane goes before the functions.
    expect(byTitle['Stop the local registry']?.status).toBe('skipped');
    const titles = result.steps.map((s) => s.title);
    expect(titles.indexOf('Stop the control plane container')).toBeLessThan(titles.indexOf('Remove the function containers'));
    const removing = await runPipeline(target.downSteps({ removeRegistry: true }), { stopped: [], notes: [] } as DownContext, {
      renderer: 'silent',
      dryRun: true,
      write: () => {},
    });
    expect(removing.steps.find((s) => s.title === 'Stop the local registry')?.status).toBe('planned');
    expect(world.calls()).toEqual([]);
  });

  it('an engine that does not answer fails the preflight in one line that says how to start it', async () => {
    const { world, target } = dockerWorld();
    // FAKE docker: records the call and answers like a CLI whose daemon is down.
    const fake = join(world.bin, 'docker');
    // The world links `docker` to the shared recording fixture: replace the link, never write through it.
    rmSync(fake);
    writeFileSync(
      fake,
      `#!/bin/sh\necho "$0 $*" >> ${JSON.stringify(world.log)}.down\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2\nexit 1\n`,
    );
    chmodSync(fake, 0o755);
    const ctx: UpContext = { functions: [], notes: [] };
    const result = await runPipeline(target.upSteps({ skipBuild: true, prometheus: false }), ctx, {
      renderer: 'silent',
      dryRun: false,
      write: () => {},
    });
    expect(result.ok).toBe(false);
    expect(result.error?.step).toBe('Preflight: the Docker engine');
    expect(result.error?.message).toBe(
      'the Docker engine does not answer (Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?)',
    );
    expect(result.error?.hint).toMatch(/sudo systemctl start docker.*dockerd/);
    expect(result.steps.filter((s) => s.status === 'done')).toEqual([]);
    // The only engine call made: `docker info`.
    expect(readFileSync(`${world.log}.down`, 'utf8').trim().split('\n')).toEqual([`${fake} info --format {{.ServerVersion}}`]);
  });

  it('the API token and other settings reach the container by name only, never in the argv', () => {
    const env = {
      NANOFAAS_API_TOKEN: 's3cret-token',
      NANOFAAS_MAX_FUNCTIONS: '7',
      NANOFAAS_PORT: '1',
      NANOFAAS_URL: 'http://x',
      PATH: '/bin',
    };
    const forwarded = forwardedEnv(env);
    expect(forwarded).toEqual({ NANOFAAS_API_TOKEN: 's3cret-token', NANOFAAS_MAX_FUNCTIONS: '7' });
    const args = controlPlaneRunArgs({
      owner: 'abc',
      image: 'localhost:5000/nanofaas/control-plane:0.1.0',
      socket: '/var/run/docker.sock',
      socketGid: 107,
      ports: { api: 8080, management: 8081 },
      forwarded: Object.keys(forwarded).sort(),
    });
    expect(args.join(' ')).toContain('-e NANOFAAS_API_TOKEN -e NANOFAAS_MAX_FUNCTIONS localhost:5000/nanofaas/control-plane:0.1.0');
    expect(args.join(' ')).not.toContain('s3cret');
  });

  it('the owner id is short, stable per state directory, different across them, and valid in names and labels', () => {
    expect(ownerId('/tmp/a')).toBe(ownerId('/tmp/a'));
    expect(ownerId('/tmp/a')).not.toBe(ownerId('/tmp/b'));
    expect(ownerId('/tmp/a')).toMatch(/^[a-z0-9-]{1,40}$/);
  });

  it("a setting the control plane would refuse is a usage error before anything runs, in the control plane's own words", () => {
    const state = new StateDir('/tmp/nanofaas-docker-plan-state');
    expect(() => checkContainerEnv({ NANOFAAS_MAX_FUNCTIONS: 'abc' }, state)).toThrow(UsageError);
    expect(() => checkContainerEnv({ NANOFAAS_MAX_FUNCTIONS: 'abc' }, state)).toThrow(/^NANOFAAS_MAX_FUNCTIONS must be/);
    // The host-only settings of the local target are not the container's business.
    expect(() => checkContainerEnv({ NANOFAAS_PYTHON: '/no/such/python', NANOFAAS_MAX_FUNCTIONS: '5' }, state)).not.toThrow();
  });
});
