/**
 * The local image registry the targets push to, at LOCAL_REGISTRY (default localhost:5000).
 *
 *   ensureRegistry(opts: RegistryOptions): Promise<RegistryInfo>
 *   stopRegistry(opts): Promise<boolean>        (only what this state directory started)
 *   registryHealthy(address): Promise<boolean>
 *   registryPlan(opts): string[]                (for a dry run; starts nothing)
 *
 * A registry that answers `GET /v2/` is reused, whoever started it. Otherwise Debian's
 * `docker-registry` runs as a detached process with a config of ours (`<state>/registry/config.yml`:
 * storage in `<state>/registry/data`, no auth, 127.0.0.1 only; the packaged config asks for
 * htpasswd), recorded as `pids/registry.json`. Without that binary, `docker run --network host
 * registry:2` with the same kind of config, recorded as `registry/container.json`. Neither: one
 * line saying how to get one. The registry is not tied to a platform run: `down` keeps it unless
 * asked to remove it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { StepFailure } from '../pipeline/step.js';
import type { ProcessRecord, StateDir } from '../state/state-dir.js';
import type { Host } from '../targets/host/host.js';
import { LocalHost } from '../targets/host/local-host.js';
import { abandonStart, startDetached } from '../targets/local/detached-process.js';
import { tailFile } from '../util/log-tail.js';
import { displayCommand, isAlive, stopGroup, which } from '../util/process.js';
import { probeDocker, runDocker, showDocker } from './docker-on.js';

export const DEFAULT_REGISTRY = 'localhost:5000';
/** The component name: pids/registry.json, logs/registry.log, the registry/ directory. */
export const REGISTRY_COMPONENT = 'registry';
const READY_WITHIN_MS = 20_000;
const STOP_GRACE_MS = 5_000;
/** The image of the fallback, which a machine with Docker can pull. */
const REGISTRY_IMAGE = 'registry:2';

export interface RegistryOptions {
  state: StateDir;
  /** host:port, the prefix of the image references; default registryAddress(env). */
  address?: string;
  /** Where docker-registry and docker are looked up (PATH), and LOCAL_REGISTRY; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Runs the registry:2 fallback; default this machine. */
  host?: Host;
  /** The docker argv prefix on that host; default ['docker']. */
  docker?: readonly string[];
  /** The image of the fallback without docker-registry; default registry:2 (any image whose entrypoint serves /etc/docker/registry/config.yml). */
  fallbackImage?: string;
  /** Stops waiting for a starting registry (which is then stopped and forgotten). */
  signal?: AbortSignal;
}

export interface RegistryInfo {
  /** e.g. localhost:5000: what image references start with. */
  address: string;
  /** Where it answers, e.g. http://127.0.0.1:5000. */
  url: string;
  how: 'reused' | 'process' | 'container';
  /** The docker-registry process (how === 'process', or reused and recorded by this state dir). */
  pid?: number;
  /** The registry:2 container's name (how === 'container', or reused and recorded by this state dir). */
  container?: string;
  /** Whether this state directory started it (stopRegistry would stop it). */
  ownedByThisStateDir: boolean;
  /** From the start of ensureRegistry until /v2/ answered. */
  ms: number;
}

interface ContainerRecord {
  name: string;
  address: string;
  url: string;
  startedAt: string;
}

export function registryAddress(env: NodeJS.ProcessEnv): string {
  return env.LOCAL_REGISTRY?.trim() || DEFAULT_REGISTRY;
}

function parseAddress(address: string): { host: string; port: number; url: string } {
  const m = /^([a-z0-9.-]+):(\d{1,5})$/i.exec(address);
  if (!m) throw new StepFailure(`LOCAL_REGISTRY must be host:port (e.g. ${DEFAULT_REGISTRY}), got "${address}"`);
  const host = m[1]!.toLowerCase();
  // localhost may resolve to ::1 first; the registries started here listen on 127.0.0.1 only.
  return { host, port: Number(m[2]), url: `http://${host === 'localhost' ? '127.0.0.1' : host}:${m[2]}` };
}

const isLoopback = (host: string) => host === 'localhost' || host === '127.0.0.1';

async function v2Status(url: string, timeoutMs: number): Promise<number> {
  const { request } = await import('undici');
  try {
    const res = await request(`${url}/v2/`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    await res.body.dump();
    return res.statusCode;
  } catch {
    return 0;
  }
}

/** Answers `GET /v2/` with 200: a registry that takes pushes without credentials. */
export async function registryHealthy(address: string, timeoutMs = 1_000): Promise<boolean> {
  return (await v2Status(parseAddress(address).url, timeoutMs)) === 200;
}

/** The distribution registry's config: no auth, storage in the state directory, loopback only. */
export function registryConfig(port: number, rootDirectory: string): string {
  return `# Written by nanofaas; rewritten whenever it starts the registry.
version: 0.1
log:
  level: warn
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: ${JSON.stringify(rootDirectory)}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  headers:
    X-Content-Type-Options: [nosniff]
`;
}

function registryBinary(env: NodeJS.ProcessEnv): string | undefined {
  return which('docker-registry', env);
}

const configPath = (state: StateDir) => state.file(REGISTRY_COMPONENT, 'config.yml');
const containerName = (port: number) => `nanofaas-registry-${port}`;

/** The recorded process, if it is still the registry this state directory started (not a recycled pid). */
function ownProcess(state: StateDir): ProcessRecord | undefined {
  const record = state.process(REGISTRY_COMPONENT);
  if (!record || !isAlive(record.pid)) return undefined;
  if (process.platform !== 'linux') return record;
  try {
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes(configPath(state)) ? record : undefined;
  } catch {
    return undefined;
  }
}

function containerRecord(state: StateDir): ContainerRecord | undefined {
  return state.readJson<ContainerRecord>(REGISTRY_COMPONENT, 'container.json');
}

function containerRunArgs(state: StateDir, port: number, image = REGISTRY_IMAGE): string[] {
  return [
    'run',
    '-d',
    '--name',
    containerName(port),
    '--network',
    'host',
    '--label',
    'dev.nanofaas.component=registry',
    '-v',
    `${state.file(REGISTRY_COMPONENT, 'container-config.yml')}:/etc/docker/registry/config.yml:ro`,
    '-v',
    `${state.file(REGISTRY_COMPONENT, 'data')}:/var/lib/registry`,
    image,
  ];
}

export function registryPlan(opts: RegistryOptions): string[] {
  const env = opts.env ?? process.env;
  const address = opts.address ?? registryAddress(env);
  const { port, url } = parseAddress(address);
  const binary = registryBinary(env);
  const start = binary
    ? `${displayCommand(binary, ['serve', configPath(opts.state)])}   (127.0.0.1:${port}, storage ${opts.state.file(REGISTRY_COMPONENT, 'data')})`
    : `${showDocker({ host: opts.host ?? new LocalHost(), ...(opts.docker ? { docker: opts.docker } : {}) }, containerRunArgs(opts.state, port, opts.fallbackImage))}   (docker-registry is not installed)`;
  return [`GET ${url}/v2/   (a registry that answers is reused)`, `${start}   (otherwise)`];
}

/** Whether 127.0.0.1:<port> is free now (get-port would not say: it holds back ports it handed out). */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Waits until /v2/ answers 200; false when `gone()` says the registry exited, or on timeout/abort. */
async function waitReady(url: string, gone: () => boolean, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + READY_WITHIN_MS;
  let delay = 20;
  // Startup wait only: the registry prints nothing worth waiting for, so probe with back-off.
  while ((await v2Status(url, 1_000)) !== 200) {
    if (gone() || signal?.aborted || Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 250);
  }
  return true;
}

export async function ensureRegistry(opts: RegistryOptions): Promise<RegistryInfo> {
  const started = performance.now();
  const { state } = opts;
  const env = opts.env ?? process.env;
  const address = opts.address ?? registryAddress(env);
  const { host, port, url } = parseAddress(address);
  const elapsed = () => performance.now() - started;

  const status = await v2Status(url, 1_000);
  if (status === 200) {
    const own = ownProcess(state);
    const container = containerRecord(state);
    const ours = own?.url === url ? { pid: own.pid } : container?.url === url ? { container: container.name } : undefined;
    return { address, url, how: 'reused', ...ours, ownedByThisStateDir: ours !== undefined, ms: elapsed() };
  }
  if (status !== 0) {
    throw new StepFailure(`${url}/v2/ answers HTTP ${status}: not a registry that takes pushes without credentials`, {
      hint: `stop what listens on port ${port}, or choose another registry: LOCAL_REGISTRY=localhost:<port>`,
    });
  }
  if (!isLoopback(host)) {
    throw new StepFailure(`no registry answers at ${address}, and one is only started on this machine`, {
      hint: `start the registry at ${address}, or use one here: LOCAL_REGISTRY=${DEFAULT_REGISTRY}`,
    });
  }
  // What this state directory started earlier and no longer answers: replaced.
  await stopRegistry(opts);
  if (!(await canListen(port))) {
    throw new StepFailure(`port ${port} on 127.0.0.1 is taken by something that is not a registry`, {
      hint: `free it, or choose another port: LOCAL_REGISTRY=localhost:<port>`,
    });
  }
  if (opts.signal?.aborted) throw new StepFailure('interrupted before the registry was started');
  state.dir(REGISTRY_COMPONENT, 'data');

  const binary = registryBinary(env);
  if (binary) {
    const config = configPath(state);
    writeFileSync(config, registryConfig(port, state.file(REGISTRY_COMPONENT, 'data')));
    // REGISTRY_* variables override the config file; ours alone decides.
    const childEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('REGISTRY_')));
    const { child, log, offset, startedAt } = await startDetached(state, REGISTRY_COMPONENT, binary, ['serve', config], { env: childEnv });
    let exited = false;
    void child.then(() => (exited = true));
    if (child.pid) {
      state.saveProcess(REGISTRY_COMPONENT, {
        pid: child.pid,
        pgid: child.pid,
        command: [binary, 'serve', config],
        log,
        startedAt,
        ports: { http: port },
        url,
      });
    }
    if (!(await waitReady(url, () => exited, opts.signal))) {
      await abandonStart(state, REGISTRY_COMPONENT, child.pid, 2_000);
      throw new StepFailure(
        opts.signal?.aborted
          ? 'interrupted while the registry was starting'
          : exited
            ? 'docker-registry exited during startup'
            : `docker-registry did not answer within ${READY_WITHIN_MS / 1000} s`,
        { command: displayCommand(binary, ['serve', config]), output: tailFile(log, 12, offset), hint: `see ${log}` },
      );
    }
    return { address, url, how: 'process', ...(child.pid ? { pid: child.pid } : {}), ownedByThisStateDir: true, ms: elapsed() };
  }

  const on = { host: opts.host ?? new LocalHost(), ...(opts.docker ? { docker: opts.docker } : {}) };
  const engine = await probeDocker(on, ['version', '--format', '{{.Server.Version}}'], 30_000);
  if (engine.exitCode !== 0) {
    throw new StepFailure(`no registry answers at ${address}, and neither docker-registry nor a Docker engine is here to start one`, {
      hint: 'install the registry: apt-get install docker-registry (Debian/Ubuntu), or start Docker so registry:2 can run',
    });
  }
  writeFileSync(state.file(REGISTRY_COMPONENT, 'container-config.yml'), registryConfig(port, '/var/lib/registry'));
  const name = containerName(port);
  // A container of that name is a registry this fallback started for an earlier state directory.
  await probeDocker(on, ['rm', '-f', name]);
  const image = opts.fallbackImage ?? REGISTRY_IMAGE;
  await runDocker(on, containerRunArgs(state, port, image), { hint: `the fallback needs the ${image} image (docker pull ${image})` });
  state.writeJson(
    { name, address, url, startedAt: new Date().toISOString() } satisfies ContainerRecord,
    REGISTRY_COMPONENT,
    'container.json',
  );
  if (!(await waitReady(url, () => false, opts.signal))) {
    const logs = await probeDocker(on, ['logs', '--tail', '12', name]);
    await stopRegistry(opts);
    throw new StepFailure(
      opts.signal?.aborted
        ? 'interrupted while the registry was starting'
        : `the ${image} container did not answer within ${READY_WITHIN_MS / 1000} s`,
      { command: showDocker(on, containerRunArgs(state, port, image)), output: `${logs.stdout}${logs.stderr}`.split('\n').filter(Boolean) },
    );
  }
  return { address, url, how: 'container', container: name, ownedByThisStateDir: true, ms: elapsed() };
}

/** Stops the registry this state directory started (process or container) and forgets it; whether one was running. */
export async function stopRegistry(opts: Pick<RegistryOptions, 'state' | 'host' | 'docker'>): Promise<boolean> {
  const { state } = opts;
  let stopped = false;
  const record = state.process(REGISTRY_COMPONENT);
  if (record) {
    const own = ownProcess(state);
    if (own) stopped = await stopGroup(own.pgid, STOP_GRACE_MS);
    state.forgetProcess(REGISTRY_COMPONENT);
  }
  const container = containerRecord(state);
  if (container) {
    const on = { host: opts.host ?? new LocalHost(), ...(opts.docker ? { docker: opts.docker } : {}) };
    const removed = await probeDocker(on, ['rm', '-f', container.name]);
    stopped ||= removed.exitCode === 0;
    state.remove(REGISTRY_COMPONENT, 'container.json');
  }
  return stopped;
}
