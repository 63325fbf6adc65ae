import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { envValue } from '../config/env.js';
import type { Endpoints, TargetName } from '../targets/target.js';

/** A process `up` started and `down` must stop. */
export interface ProcessRecord {
  pid: number;
  /** The process leads its own group: `down` signals -pid. */
  pgid: number;
  command: string[];
  log: string;
  startedAt: string;
  ports?: Record<string, number>;
  url?: string;
}

/** Written by whoever starts Grafana (loadtest) so `down` can stop exactly that stack. */
export interface GrafanaRecord {
  composeFile: string;
  /** Extra env the compose file needs again on `down` (e.g. PROM_URL). */
  env?: Record<string, string>;
  url?: string;
  startedAt: string;
}

export interface EndpointsFile extends Endpoints {
  target: TargetName;
  updatedAt: string;
}

/**
 * The one directory holding what `up` started: pids/<component>.json, logs/, endpoints.json,
 * plus component data (Prometheus TSDB, the control plane's registry). Writes are atomic.
 */
export class StateDir {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  static resolve(flag: string | undefined, env: NodeJS.ProcessEnv, rootDir: string): StateDir {
    const chosen = flag ?? envValue(env, 'NANOFAAS_STATE_DIR') ?? join(rootDir, '.nanofaas');
    return new StateDir(isAbsolute(chosen) ? chosen : resolve(process.cwd(), chosen));
  }

  file(...parts: string[]): string {
    return join(this.path, ...parts);
  }

  dir(...parts: string[]): string {
    const path = join(this.path, ...parts);
    mkdirSync(path, { recursive: true });
    return path;
  }

  /** A component's log file; creates logs/ so the caller can open it for appending. */
  logFile(component: string): string {
    return join(this.dir('logs'), `${component}.log`);
  }

  /** Where a component's log is, creating nothing (for plans and messages). */
  logPath(component: string): string {
    return this.file('logs', `${component}.log`);
  }

  readJson<T>(...parts: string[]): T | undefined {
    const path = this.file(...parts);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      // A torn or hand-edited file is treated as absent; the next write replaces it.
      return undefined;
    }
  }

  writeJson(value: unknown, ...parts: string[]): void {
    const path = this.file(...parts);
    mkdirSync(join(path, '..'), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
    renameSync(tmp, path);
  }

  remove(...parts: string[]): void {
    rmSync(this.file(...parts), { force: true, recursive: true });
  }

  exists(...parts: string[]): boolean {
    return existsSync(this.file(...parts));
  }

  process(component: string): ProcessRecord | undefined {
    return this.readJson<ProcessRecord>('pids', `${component}.json`);
  }

  saveProcess(component: string, record: ProcessRecord): void {
    this.writeJson(record, 'pids', `${component}.json`);
  }

  forgetProcess(component: string): void {
    this.remove('pids', `${component}.json`);
  }

  grafana(): GrafanaRecord | undefined {
    return this.readJson<GrafanaRecord>('grafana.json');
  }

  saveGrafana(record: GrafanaRecord): void {
    this.writeJson(record, 'grafana.json');
  }

  endpoints(): EndpointsFile | undefined {
    return this.readJson<EndpointsFile>('endpoints.json');
  }

  saveEndpoints(target: TargetName, endpoints: Endpoints): void {
    this.writeJson({ target, ...endpoints, updatedAt: new Date().toISOString() } satisfies EndpointsFile, 'endpoints.json');
  }
}
