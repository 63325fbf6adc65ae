import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { envValue } from '../config/env.js';
import type { GrafanaRecord } from '../state/state-dir.js';

export interface GrafanaOutcome {
  started: boolean;
  /** One line for the user: where the dashboard is, or why it was not started. */
  message: string;
}

/** Where a started stack is recorded so `nanofaas down` stops it (the CLI's StateDir). */
export interface GrafanaRecorder {
  saveGrafana(record: GrafanaRecord): void;
}

export const GRAFANA_URL = 'http://localhost:3000/d/nanofaas-functions';

/**
 * Start the Grafana stack from grafana/docker-compose.yml (PROM_URL passed in) when Docker is
 * usable and SKIP_GRAFANA is not set. Never fatal: a load test does not need a dashboard.
 * A started stack is recorded in `state` (compose file + PROM_URL, which the compose file needs
 * again on `down`), so `nanofaas down` stops exactly what this started.
 */
export function startGrafana(rootDir: string, env: NodeJS.ProcessEnv, prometheusUrl: string | undefined, state?: GrafanaRecorder): GrafanaOutcome {
  if (envValue(env, 'SKIP_GRAFANA')) return { started: false, message: 'Grafana: skipped (SKIP_GRAFANA)' };
  const compose = join(rootDir, 'grafana', 'docker-compose.yml');
  if (!existsSync(compose)) return { started: false, message: `Grafana: not started (${compose} is missing)` };
  const docker = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 10_000, env });
  if (docker.error || docker.status !== 0) {
    return { started: false, message: 'Grafana: not started (Docker is not usable here; set SKIP_GRAFANA=true to silence this)' };
  }
  const composeEnv: Record<string, string> = prometheusUrl ? { PROM_URL: prometheusUrl } : {};
  const up = spawnSync('docker', ['compose', '-f', compose, 'up', '-d'], { encoding: 'utf8', timeout: 120_000, env: { ...env, ...composeEnv } });
  if (up.status !== 0) {
    const tail = `${up.stderr ?? ''}`.trim().split('\n').slice(-1)[0] ?? '';
    return { started: false, message: `Grafana: docker compose up failed (${tail || `exit ${up.status}`})` };
  }
  state?.saveGrafana({ composeFile: compose, env: composeEnv, url: GRAFANA_URL, startedAt: new Date().toISOString() });
  return { started: true, message: `Grafana: ${GRAFANA_URL} (admin/admin)` };
}
