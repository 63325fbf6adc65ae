import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { envValue } from '../config/env.js';
import type { GrafanaRecord } from '../state/state-dir.js';
import { displayCommand, runCommand } from '../util/process.js';

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

/** How to run Compose here: the Docker CLI plugin (`docker compose`) or the standalone `docker-compose`. */
export interface ComposeCommand {
  command: string;
  args: string[];
}

const COMPOSE_CANDIDATES: readonly ComposeCommand[] = [
  { command: 'docker', args: ['compose'] },
  { command: 'docker-compose', args: [] },
];

/**
 * The first Compose that answers `version`, or undefined. Docker without its compose plugin is
 * common (a distribution's docker.io package), so `docker compose` alone is not enough to try.
 */
export async function findCompose(env: NodeJS.ProcessEnv): Promise<ComposeCommand | undefined> {
  for (const candidate of COMPOSE_CANDIDATES) {
    const probe = await runCommand(candidate.command, [...candidate.args, 'version'], { timeoutMs: 10_000, env });
    if (probe.exitCode === 0) return candidate;
  }
  return undefined;
}

export function composeArgv(compose: ComposeCommand, composeFile: string, ...rest: string[]): [string, string[]] {
  return [compose.command, [...compose.args, '-f', composeFile, ...rest]];
}

export type GrafanaReadiness = { ready: true; compose: ComposeCommand; composeFile: string } | { ready: false; reason: string };

/** Whether the Grafana stack can be started here, and with which Compose; read-only. */
export async function grafanaReadiness(rootDir: string, env: NodeJS.ProcessEnv): Promise<GrafanaReadiness> {
  if (envValue(env, 'SKIP_GRAFANA')) return { ready: false, reason: 'SKIP_GRAFANA is set' };
  const composeFile = join(rootDir, 'grafana', 'docker-compose.yml');
  if (!existsSync(composeFile)) return { ready: false, reason: `${composeFile} is missing` };
  const docker = await runCommand('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000, env });
  if (docker.exitCode !== 0) {
    return { ready: false, reason: 'Docker is not usable here; set SKIP_GRAFANA=true to silence this' };
  }
  const compose = await findCompose(env);
  if (compose === undefined) {
    return {
      ready: false,
      reason:
        'Docker has no Compose (neither `docker compose version` nor `docker-compose version` works); install the compose plugin, or set SKIP_GRAFANA=true',
    };
  }
  return { ready: true, compose, composeFile };
}

/**
 * Start the Grafana stack from grafana/docker-compose.yml (PROM_URL passed in) when Docker and
 * Compose are usable and SKIP_GRAFANA is not set. A started stack is recorded in `state`
 * (compose file + PROM_URL, which the compose file needs again on `down`), so `nanofaas down`
 * stops exactly what this started.
 */
export async function startGrafana(
  rootDir: string,
  env: NodeJS.ProcessEnv,
  prometheusUrl: string | undefined,
  state?: GrafanaRecorder,
): Promise<GrafanaOutcome> {
  const readiness = await grafanaReadiness(rootDir, env);
  if (!readiness.ready) return { started: false, message: `Grafana: not started (${readiness.reason})` };
  return composeUp(readiness.compose, readiness.composeFile, env, prometheusUrl, state);
}

export async function composeUp(
  compose: ComposeCommand,
  composeFile: string,
  env: NodeJS.ProcessEnv,
  prometheusUrl: string | undefined,
  state?: GrafanaRecorder,
): Promise<GrafanaOutcome> {
  const composeEnv: Record<string, string> = prometheusUrl ? { PROM_URL: prometheusUrl } : {};
  const [command, args] = composeArgv(compose, composeFile, 'up', '-d');
  const up = await runCommand(command, args, { timeoutMs: 120_000, env: { ...env, ...composeEnv } });
  if (up.exitCode !== 0) {
    const tail = up.stderr.trim().split('\n').slice(-1)[0] ?? '';
    const why = tail || (up.timedOut ? 'timed out after 120 s' : `exit ${up.exitCode}`);
    return { started: false, message: `Grafana: ${displayCommand(compose.command, [...compose.args, 'up'])} failed (${why})` };
  }
  state?.saveGrafana({ composeFile, env: composeEnv, url: GRAFANA_URL, startedAt: new Date().toISOString() });
  return { started: true, message: `Grafana: ${GRAFANA_URL} (admin/admin)` };
}
