/**
 * Every environment variable the CLI reads, in one table: its parser, the accepted form, and the
 * targets that read it. `checkCliEnv` validates the whole table for the chosen target before any
 * command runs (program.ts, a preAction hook), so a malformed value is a usage error (exit 2)
 * with one line such as `NANOFAAS_PORT must be an integer port 0-65535, got "abc"` before
 * anything starts. Everything else reads values through `envValue`, so each variable has exactly
 * one parser. Unset and blank mean "use the default".
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../cli/errors.js';
import { TARGET_NAMES, type TargetName } from '../targets/target.js';

type Env = Readonly<Record<string, string | undefined>>;

interface Variable<T> {
  /** What is accepted, completing "NAME must be …". */
  form: string;
  /** Targets that read it; `all` = every command reads it whatever the target. */
  targets: 'all' | readonly TargetName[];
  /** The parsed value, or undefined when `raw` is malformed. */
  parse(raw: string): T | undefined;
  fallback: T;
  /** Never echo the value in an error (a credential). */
  secret?: boolean;
  /** One line for the docs table. */
  meaning: string;
}

const variable = <T>(v: Variable<T>): Variable<T> => v;

function integer(raw: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= min && n <= max ? n : undefined;
}

const port = (meaning: string, targets: readonly TargetName[]) =>
  variable<number | undefined>({
    form: 'an integer port 0-65535',
    targets,
    parse: (raw) => integer(raw, 0, 65535),
    fallback: undefined,
    meaning,
  });

function bool(meaning: string, targets: Variable<boolean>['targets'] = 'all'): Variable<boolean> {
  return variable<boolean>({
    form: 'true or false (also 1/0, yes/no)',
    targets,
    parse: (raw) => {
      const v = raw.toLowerCase();
      if (['true', '1', 'yes'].includes(v)) return true;
      if (['false', '0', 'no'].includes(v)) return false;
      return undefined;
    },
    fallback: false,
    meaning,
  });
}

function httpUrl(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? raw.replace(/\/+$/, '') : undefined;
}

const url = (meaning: string, example: string) =>
  variable<string | undefined>({ form: `an http(s) URL, e.g. ${example}`, targets: 'all', parse: httpUrl, fallback: undefined, meaning });

const matching = (pattern: RegExp) => (raw: string) => (pattern.test(raw) ? raw : undefined);

const SIZE = /^\d+(\.\d+)?[KMG]?$/i;
/** Visible ASCII without spaces: what may follow `Bearer ` in a header. */
const TOKEN = /^[\x21-\x7e]+$/;

export const CLI_ENV = {
  NANOFAAS_TARGET: variable<TargetName>({
    form: `one of ${TARGET_NAMES.join(', ')}`,
    targets: 'all',
    parse: (raw) => (TARGET_NAMES as readonly string[]).find((t) => t === raw) as TargetName | undefined,
    fallback: 'local',
    meaning: 'target when --target is not given',
  }),
  NANOFAAS_URL: url('API base URL (otherwise the state directory written by `up`)', 'http://127.0.0.1:8080'),
  NANOFAAS_API_TOKEN: variable<string | undefined>({
    form: 'visible ASCII characters without spaces (a bearer token)',
    targets: 'all',
    parse: matching(TOKEN),
    fallback: undefined,
    secret: true,
    meaning: 'bearer token the CLI sends; the local control plane requires it',
  }),
  NANOFAAS_API_TOKEN_FILE: variable<string | undefined>({
    form: 'the path of a readable file holding the token (visible ASCII without spaces)',
    targets: 'all',
    parse: (raw) => {
      let text: string;
      try {
        text = readFileSync(raw, 'utf8').trim();
      } catch {
        return undefined;
      }
      return TOKEN.test(text) ? text : undefined;
    },
    fallback: undefined,
    meaning: 'the token read from a file, so it stays out of process environments',
  }),
  NANOFAAS_STATE_DIR: variable<string | undefined>({
    form: 'a directory path',
    targets: 'all',
    parse: (raw) => raw,
    fallback: undefined,
    meaning: 'state directory: pids, ports, logs, endpoints',
  }),
  PROM_URL: url('Prometheus URL (otherwise the one `up` started)', 'http://127.0.0.1:9090'),
  SKIP_BUILD: bool('use existing build artifacts (`up --skip-build`)'),
  SKIP_GRAFANA: bool('do not start the Grafana stack'),
  KEEP_VM: bool('`down` keeps the VM or cluster, stops only nanofaas'),
  NANOFAAS_PORT: port('API port (8080, or a free one when taken; 0 = any)', ['local', 'docker']),
  NANOFAAS_MANAGEMENT_PORT: port('metrics and health port (8081, or a free one; 0 = any)', ['local', 'docker']),
  NANOFAAS_PROMETHEUS_PORT: port('Prometheus port (9090, or a free one; 0 = any)', ['local', 'docker']),
  NANOFAAS_PYTHON: variable<string | undefined>({
    form: 'a program name or path without spaces, e.g. /usr/bin/python3',
    targets: ['local'],
    parse: matching(/^\S+$/),
    fallback: undefined,
    meaning: 'interpreter of the python runtime (default /usr/bin/python3)',
  }),
  NANOFAAS_JAVA: variable<string | undefined>({
    form: 'a program name or path without spaces, e.g. /usr/lib/jvm/java-17/bin/java',
    targets: ['local'],
    parse: matching(/^\S+$/),
    fallback: undefined,
    meaning: 'java of the java runtime (default java)',
  }),
  VM_NAME: variable<string>({
    form: 'a Multipass instance name (a letter, then letters, digits, -; at most 63)',
    targets: ['multipass'],
    parse: matching(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/),
    fallback: 'nanofaas-e2e',
    meaning: 'VM name',
  }),
  CPUS: variable<number>({
    form: 'an integer 1-64',
    targets: ['multipass'],
    parse: (raw) => integer(raw, 1, 64),
    fallback: 4,
    meaning: 'VM CPUs',
  }),
  MEMORY: variable<string>({
    form: 'a size such as 8G',
    targets: ['multipass'],
    parse: matching(SIZE),
    fallback: '8G',
    meaning: 'VM memory',
  }),
  DISK: variable<string>({
    form: 'a size such as 30G',
    targets: ['multipass'],
    parse: matching(SIZE),
    fallback: '30G',
    meaning: 'VM disk',
  }),
  LOCAL_REGISTRY: variable<string>({
    form: 'host:port, e.g. localhost:5000',
    targets: ['multipass', 'docker'],
    parse: matching(/^[a-z0-9.-]+:\d{1,5}$/i),
    fallback: 'localhost:5000',
    meaning: 'local registry the images are pushed to (in the VM for multipass)',
  }),
  VM_IMAGE: variable<string>({
    form: 'a Multipass image name, e.g. 24.04',
    targets: ['multipass'],
    parse: matching(/^[\w.:-]+$/),
    fallback: '24.04',
    meaning: 'Ubuntu image for `multipass launch`',
  }),
  NANOFAAS_KUBE_CONTEXT: variable<string | undefined>({
    form: 'a kube context name without whitespace',
    targets: ['kubeconfig'],
    parse: matching(/^\S+$/),
    fallback: undefined,
    meaning: 'kube context (`up --context`)',
  }),
  NANOFAAS_REGISTRY: variable<string | undefined>({
    form: 'a registry such as registry.example.com:5000/team',
    targets: ['kubeconfig'],
    parse: matching(/^[a-z0-9.-]+(:\d{1,5})?(\/[a-z0-9._-]+)*$/i),
    fallback: undefined,
    meaning: 'registry to push to and pull from (`up --registry`)',
  }),
} as const;

export type CliEnvName = keyof typeof CLI_ENV;
export type CliEnvValue<K extends CliEnvName> = (typeof CLI_ENV)[K] extends Variable<infer T> ? T : never;

/** The parsed value of one variable, or its default; a malformed value is a UsageError (exit 2). */
export function envValue<K extends CliEnvName>(env: Env, name: K): CliEnvValue<K> {
  const spec = CLI_ENV[name] as Variable<CliEnvValue<K>>;
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return spec.fallback;
  const value = spec.parse(raw);
  if (value === undefined) {
    throw new UsageError(`${name} must be ${spec.form}, got ${spec.secret ? 'a value that is not' : JSON.stringify(raw)}`);
  }
  return value;
}

/** The API token from NANOFAAS_API_TOKEN or NANOFAAS_API_TOKEN_FILE (both at once is ambiguous). */
export function apiToken(env: Env): string | undefined {
  const inline = envValue(env, 'NANOFAAS_API_TOKEN');
  const fromFile = envValue(env, 'NANOFAAS_API_TOKEN_FILE');
  if (inline !== undefined && fromFile !== undefined)
    throw new UsageError('NANOFAAS_API_TOKEN and NANOFAAS_API_TOKEN_FILE must not both be set, got both');
  return inline ?? fromFile;
}

/** Validate every variable `target` reads (the first malformed one throws). */
export function checkCliEnv(env: Env, target: TargetName): void {
  for (const name of Object.keys(CLI_ENV) as CliEnvName[]) {
    const { targets } = CLI_ENV[name] as Variable<unknown>;
    if (targets === 'all' || targets.includes(target)) envValue(env, name);
  }
  apiToken(env);
}
