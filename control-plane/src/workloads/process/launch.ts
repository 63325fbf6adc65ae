/**
 * The one place that turns a function spec into a child-process launch (argv, env, cwd).
 *
 * Each runtime ships `runtimes/<runtime>/launch.json`:
 *   {"command": ["node", "runtimes/node/dist/main.js"],
 *    "env": {"HANDLER": "${handler}"},
 *    "requires": [{"bin": "node", "hint": "install Node.js 20+"}]}
 * Strings in `command`, `env` values and `requires[].bin` may use the placeholders
 * ${handler} ${port} ${root} ${name} ${timeoutMs} ${runtimeMode}, ${env:VAR:-default} (the spec's
 * own `env`, never the control plane's environment) and ${operator:VAR:-default} (the operator's
 * settings, OPERATOR_SETTINGS: which interpreter runs a runtime is theirs to choose, not a function's).
 *
 * Everything here except loadLaunchDescriptor/findMissingRequirements is pure, so the backend,
 * the conformance suite and the runtime benchmark all launch runtimes the same way.
 */
import { constants as fsConstants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FunctionSpec } from '../../contracts/index.js';
import { ApiError } from '../../errors.js';

export interface Requirement {
  /** A program name looked up on PATH, or a path (absolute or relative to the repo root). */
  bin: string;
  /** What to do when it is missing, e.g. "install Node.js 20+". */
  hint?: string;
}

export interface LaunchDescriptor {
  command: string[];
  env?: Record<string, string>;
  requires?: Requirement[];
}

/** The only variables a function process takes from the host's environment. */
export const INHERITED_ENV: readonly string[] = ['PATH', 'HOME', 'LANG'];

/**
 * Operator settings a descriptor may read as ${operator:NAME:-default}: the interpreters of the
 * python and java runtimes. Read from the control plane's environment by config.ts.
 */
export const OPERATOR_SETTINGS: readonly string[] = ['NANOFAAS_PYTHON', 'NANOFAAS_JAVA'];

/** The OPERATOR_SETTINGS that are set (non-empty) in `env`. */
export function operatorSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const name of OPERATOR_SETTINGS) {
    const value = env[name]?.trim();
    if (value) settings[name] = value;
  }
  return settings;
}

type EnvLike = Readonly<Record<string, string | undefined>>;

export interface LaunchContext {
  /** The port the child must listen on (always wins as PORT). */
  port: number;
  /** Repository root: cwd of the child; relative paths resolve against it. */
  rootDir: string;
  /** The host's environment; only INHERITED_ENV (PATH, HOME, LANG) is taken from it. */
  hostEnv?: EnvLike;
  /** Values of ${operator:NAME}; see OPERATOR_SETTINGS. */
  operator?: EnvLike;
  /** Base URL for CALLBACK_URL (…/v1/internal/executions); omitted → no CALLBACK_URL. */
  callbackBaseUrl?: string;
  /** CALLBACK_TOKEN: the credential for the function's own `:complete` callbacks. */
  callbackToken?: string;
  /** Further variables of the backend's (NANOFAAS_PARENT_PIPE, …); spec.env cannot override them. */
  backendEnv?: Readonly<Record<string, string>>;
}

export interface ResolvedLaunch {
  /** Executable: a PATH name or an absolute path. */
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Binaries the launch needs, placeholders resolved; check with findMissingRequirements. */
  requires: Requirement[];
}

/** Why a function cannot be launched: an API error, so its code (and status) reach the caller unguessed. */
export class LaunchError extends ApiError {
  override readonly name = 'LaunchError';
}

export function descriptorPath(rootDir: string, runtime: string): string {
  return path.join(rootDir, 'runtimes', runtime, 'launch.json');
}

/** Read and validate runtimes/<runtime>/launch.json. */
export async function loadLaunchDescriptor(rootDir: string, runtime: string): Promise<LaunchDescriptor> {
  const file = descriptorPath(rootDir, runtime);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : String(err);
    throw new LaunchError('BACKEND_UNAVAILABLE', `runtime "${runtime}" has no launch descriptor: ${file} ${reason}`);
  }
  return parseLaunchDescriptor(text, file);
}

/** Validate descriptor JSON; `source` names the file in error messages. */
export function parseLaunchDescriptor(text: string, source: string): LaunchDescriptor {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw invalid(source, `not valid JSON (${(err as Error).message})`);
  }
  if (!isRecord(raw)) throw invalid(source, 'must be a JSON object');
  const { command, env, requires } = raw;
  if (!Array.isArray(command) || command.length === 0 || !command.every(isNonEmptyString)) {
    throw invalid(source, '"command" must be a non-empty array of non-empty strings');
  }
  const descriptor: LaunchDescriptor = { command: [...command] };
  if (env !== undefined) {
    if (!isRecord(env) || !Object.values(env).every((v) => typeof v === 'string')) {
      throw invalid(source, '"env" must be an object of string values');
    }
    descriptor.env = { ...(env as Record<string, string>) };
  }
  if (requires !== undefined) {
    if (!Array.isArray(requires)) throw invalid(source, '"requires" must be an array');
    descriptor.requires = requires.map((r, i) => {
      if (!isRecord(r) || !isNonEmptyString(r.bin)) throw invalid(source, `"requires[${i}].bin" must be a non-empty string`);
      if (r.hint !== undefined && typeof r.hint !== 'string') throw invalid(source, `"requires[${i}].hint" must be a string`);
      return r.hint === undefined ? { bin: r.bin } : { bin: r.bin, hint: r.hint };
    });
  }
  return descriptor;
}

/**
 * Build the launch for one replica. `descriptor` is the runtime's launch.json (undefined when the
 * spec has no runtime and brings its own `command` argv). Never involves a shell.
 *
 * The child's environment is built from nothing, never copied from the control plane's (which
 * holds its secrets). Later entries win: PATH, HOME, LANG of the host < FUNCTION_NAME, TIMEOUT_MS,
 * HANDLER, EXECUTION_MODE < descriptor env < spec.env < CALLBACK_URL, CALLBACK_TOKEN, backendEnv,
 * PORT. spec.env may thus override e.g. EXECUTION_MODE (STREAM for the watchdog); what the backend
 * owns it may not.
 */
export function resolveLaunch(descriptor: LaunchDescriptor | undefined, spec: FunctionSpec, ctx: LaunchContext): ResolvedLaunch {
  const argvTemplate = descriptor?.command ?? spec.command;
  if (!spec.runtime && (!argvTemplate || argvTemplate.length === 0)) {
    throw new LaunchError(
      'VALIDATION_ERROR',
      `function "${spec.name}" has neither "runtime" nor "command"; the process backend cannot run an image`,
    );
  }
  if (spec.runtime && !descriptor) {
    throw new LaunchError('BACKEND_UNAVAILABLE', `no launch descriptor given for runtime "${spec.runtime}"`);
  }
  const expand = placeholderExpander(spec, ctx);
  const argv = (argvTemplate ?? []).map((part) => expand(part));
  const [first, ...args] = argv;
  if (!first) throw new LaunchError('VALIDATION_ERROR', `function "${spec.name}": the command is empty`);

  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = ctx.hostEnv?.[name];
    if (value !== undefined) env[name] = value;
  }
  env.FUNCTION_NAME = spec.name;
  env.TIMEOUT_MS = String(spec.timeoutMs);
  env.HANDLER = spec.handler ?? '';
  env.EXECUTION_MODE = spec.runtimeMode;
  for (const [k, v] of Object.entries(descriptor?.env ?? {})) env[k] = expand(v);
  Object.assign(env, spec.env ?? {});
  delete env.CALLBACK_URL;
  delete env.CALLBACK_TOKEN;
  if (ctx.callbackBaseUrl) env.CALLBACK_URL = ctx.callbackBaseUrl;
  if (ctx.callbackBaseUrl && ctx.callbackToken) env.CALLBACK_TOKEN = ctx.callbackToken;
  Object.assign(env, ctx.backendEnv ?? {});
  env.PORT = String(ctx.port);

  const requires = (descriptor?.requires ?? []).map((r) => ({ ...r, bin: expand(r.bin) }));
  // The executable itself is always a requirement: a clear "not found" beats a spawn ENOENT.
  const command = resolveExecutable(first, ctx.rootDir);
  if (!requires.some((r) => resolveExecutable(r.bin, ctx.rootDir) === command)) {
    requires.unshift({ bin: first });
  }
  return { command, args, env, cwd: ctx.rootDir, requires };
}

/**
 * Expands placeholders in one string. Unknown placeholders are an error rather than passed
 * through literally, so a typo in launch.json fails at provisioning, not inside the runtime.
 */
export function placeholderExpander(
  spec: FunctionSpec,
  ctx: Pick<LaunchContext, 'port' | 'rootDir' | 'operator'>,
): (template: string) => string {
  const sources: Record<string, EnvLike> = { env: spec.env ?? {}, operator: ctx.operator ?? {} };
  const values: Record<string, () => string> = {
    handler: () => {
      if (!spec.handler) {
        throw new LaunchError('VALIDATION_ERROR', `function "${spec.name}" uses runtime "${spec.runtime}" but has no "handler"`);
      }
      return spec.handler;
    },
    port: () => String(ctx.port),
    root: () => ctx.rootDir,
    name: () => spec.name,
    timeoutMs: () => String(spec.timeoutMs),
    runtimeMode: () => spec.runtimeMode,
  };
  return (template) =>
    template.replace(/\$\{([^}]*)\}/g, (_match, key: string) => {
      const colon = key.indexOf(':');
      const source = colon === -1 ? undefined : sources[key.slice(0, colon)];
      if (source) {
        const rest = key.slice(colon + 1);
        const sep = rest.indexOf(':-');
        const name = sep === -1 ? rest : rest.slice(0, sep);
        const fallback = sep === -1 ? '' : rest.slice(sep + 2);
        const value = Object.hasOwn(source, name) ? source[name] : undefined;
        return value === undefined || value === '' ? fallback : value;
      }
      const value = values[key];
      if (!value) throw new LaunchError('VALIDATION_ERROR', `unknown placeholder \${${key}} in "${template}"`);
      return value();
    });
}

/** A bare name stays a PATH lookup; anything with a slash is a path relative to the repo root. */
export function resolveExecutable(bin: string, rootDir: string): string {
  return bin.includes('/') ? path.resolve(rootDir, bin) : bin;
}

/** The requirements whose binary cannot be found (as an executable file, or on env.PATH). */
export async function findMissingRequirements(launch: ResolvedLaunch): Promise<Requirement[]> {
  const missing: Requirement[] = [];
  for (const req of launch.requires) {
    const found = await locateExecutable(req.bin, launch.cwd, launch.env.PATH ?? '');
    if (!found) missing.push(req);
  }
  return missing;
}

/** Throws a LaunchError naming every missing binary and its hint. */
export async function assertRequirements(launch: ResolvedLaunch, functionName: string): Promise<void> {
  const missing = await findMissingRequirements(launch);
  if (missing.length === 0) return;
  const list = missing.map((r) => (r.hint ? `"${r.bin}" (${r.hint})` : `"${r.bin}"`)).join(', ');
  throw new LaunchError('BACKEND_UNAVAILABLE', `cannot launch function "${functionName}": missing ${list}`);
}

async function locateExecutable(bin: string, rootDir: string, searchPath: string): Promise<string | undefined> {
  const candidates = bin.includes('/')
    ? [path.resolve(rootDir, bin)]
    : searchPath
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, bin));
  for (const candidate of candidates) {
    try {
      await access(candidate, fsConstants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here; try the next PATH entry
    }
  }
  return undefined;
}

function invalid(source: string, why: string): LaunchError {
  return new LaunchError('BACKEND_UNAVAILABLE', `invalid launch descriptor ${source}: ${why}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}
