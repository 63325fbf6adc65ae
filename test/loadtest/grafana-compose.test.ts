import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { grafanaReadiness, startGrafana } from '../../src/loadtest/grafana.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { StateDir } from '../../src/state/state-dir.js';
import { stopGrafanaStep } from '../../src/targets/grafana-step.js';
import type { DownContext } from '../../src/targets/target.js';

/**
 * Docker Compose and Grafana cannot run here. These FAKE `docker` / `docker-compose` scripts
 * (plain /bin/sh, on a PATH holding nothing else) answer like a Docker whose daemon works but
 * whose compose plugin is missing, and like a standalone docker-compose; each logs its argv.
 */
const work = mkdtempSync(join(tmpdir(), 'grafana-compose-'));
const root = join(work, 'repo');
const composeFile = join(root, 'grafana', 'docker-compose.yml');
mkdirSync(join(root, 'grafana'), { recursive: true });
writeFileSync(composeFile, 'services: {}\n');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const FAKE_DOCKER_WITHOUT_COMPOSE = (log: string) => `#!/bin/sh
echo "docker $*" >> ${log}
if [ "$1" = info ]; then echo 27.5.1; exit 0; fi
if [ "$1" = compose ]; then echo "docker: unknown command: docker compose" >&2; exit 1; fi
exit 0
`;
const FAKE_DOCKER_COMPOSE = (log: string) => `#!/bin/sh
echo "docker-compose $*" >> ${log}
exit 0
`;

function fakeBin(name: string, scripts: Record<string, string>): { env: NodeJS.ProcessEnv; log: string } {
  const bin = join(work, name);
  mkdirSync(bin, { recursive: true });
  const log = join(work, `${name}.log`);
  writeFileSync(log, '');
  for (const [file, script] of Object.entries(scripts)) {
    writeFileSync(join(bin, file), script.replaceAll('${log}', log));
    chmodSync(join(bin, file), 0o755);
  }
  return { env: { PATH: bin }, log };
}

const calls = (log: string) =>
  readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '');

describe('Grafana needs Docker Compose (FAKE docker on PATH)', () => {
  it('Docker without its compose plugin and no docker-compose: not started, the reason says which commands failed', async () => {
    const { env, log } = fakeBin('no-compose', { docker: FAKE_DOCKER_WITHOUT_COMPOSE('${log}') });
    const readiness = await grafanaReadiness(root, env);
    expect(readiness).toEqual({
      ready: false,
      reason:
        'Docker has no Compose (neither `docker compose version` nor `docker-compose version` works); install the compose plugin, or set SKIP_GRAFANA=true',
    });
    writeFileSync(log, '');
    const state = new StateDir(join(work, 'state-no-compose'));
    expect(await startGrafana(root, env, undefined, state)).toEqual({
      started: false,
      message: `Grafana: not started (${readiness.ready ? '' : readiness.reason})`,
    });
    expect(calls(log)).toEqual(['docker info --format {{.ServerVersion}}', 'docker compose version']);
    expect(existsSync(join(work, 'state-no-compose', 'grafana.json'))).toBe(false);
  });

  it('uses the standalone docker-compose when the plugin is missing, to start and to stop', async () => {
    const { env, log } = fakeBin('standalone', {
      docker: FAKE_DOCKER_WITHOUT_COMPOSE('${log}'),
      'docker-compose': FAKE_DOCKER_COMPOSE('${log}'),
    });
    const state = new StateDir(join(work, 'state-standalone'));
    expect((await startGrafana(root, env, 'http://127.0.0.1:9090', state)).started).toBe(true);
    expect(calls(log).at(-1)).toBe(`docker-compose -f ${composeFile} up -d`);
    expect(state.grafana()?.composeFile).toBe(composeFile);

    const step = stopGrafanaStep(state, root, env);
    expect(await step.plan!({ stopped: [] } as unknown as DownContext, { dryRun: true })).toEqual([
      `docker-compose -f ${composeFile} down`,
    ]);
    const ctx = { stopped: [] as string[] } as unknown as DownContext;
    const result = await runPipeline([step], ctx, { renderer: 'silent' });
    expect(result.ok).toBe(true);
    expect(calls(log).at(-1)).toBe(`docker-compose -f ${composeFile} down`);
    expect(state.grafana()).toBeUndefined();
  });

  it('down fails with the reason (not ✔) when no Compose answers any more', async () => {
    const { env } = fakeBin('no-compose-down', { docker: FAKE_DOCKER_WITHOUT_COMPOSE('${log}') });
    const state = new StateDir(join(work, 'state-down'));
    state.saveGrafana({ composeFile, env: {}, startedAt: new Date().toISOString() });
    const result = await runPipeline([stopGrafanaStep(state, root, env)], { stopped: [] } as unknown as DownContext, {
      renderer: 'silent',
    });
    expect(result.ok).toBe(false);
    expect(result.steps[0]?.status).toBe('failed');
    expect(result.error?.message).toContain('neither `docker compose version` nor `docker-compose version` works');
    expect(result.error?.hint).toContain(`docker compose -f ${composeFile} down`);
    expect(state.grafana()).toBeDefined();
  });
});
