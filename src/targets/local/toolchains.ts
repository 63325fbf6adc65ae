import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, which } from '../../util/process.js';
import { versionAtLeast } from '../../util/version.js';

/** What runtimes/<rt>/launch.json says a runtime needs. */
interface LaunchDescriptor {
  command?: string[];
  requires?: { bin: string; hint?: string }[];
}

export interface RuntimeAvailability {
  runtime: string;
  ok: boolean;
  /** Why not, with the install hint (for the skip reason and `doctor`). */
  reason?: string;
  hint?: string;
  /** Binaries found, for doctor's detail line. */
  found: string[];
}

/** ${operator:VAR:-default} (and ${env:VAR…}) as the process backend resolves them from the control plane's settings. */
export function expandEnv(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(
    /\$\{(?:env|operator):([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_m, name: string, fallback?: string) => env[name] || fallback || '',
  );
}

/** Extra checks beyond `requires`: things a binary on PATH does not prove (python modules, jq). */
const EXTRA: Record<
  string,
  { bins: { bin: string; hint: string }[]; probe?: (bins: Record<string, string>) => Promise<string | undefined> }
> = {
  python: {
    bins: [],
    async probe(bins) {
      const python = Object.values(bins).find((b) => /python/.test(b));
      if (!python) return undefined;
      const r = await runCommand(python, ['-c', 'import fastapi, uvicorn'], { timeoutMs: 15_000 });
      return r.exitCode === 0 ? undefined : `${python} cannot import fastapi + uvicorn`;
    },
  },
  exec: {
    bins: [{ bin: 'gojq', hint: 'apt-get install gojq' }],
  },
  java: { bins: [{ bin: 'java', hint: 'apt-get install default-jdk-headless (JDK 17+)' }] },
};

const INSTALL_HINT: Record<string, string> = {
  python: 'apt-get install python3-fastapi python3-uvicorn',
  java: 'apt-get install default-jdk-headless maven',
  exec: 'apt-get install gojq',
  node: 'install Node.js 20+',
};

/** Can this machine run functions of `runtime`? Never throws: a problem is a reason string. */
export async function checkRuntime(rootDir: string, runtime: string, env: NodeJS.ProcessEnv): Promise<RuntimeAvailability> {
  const path = join(rootDir, 'runtimes', runtime, 'launch.json');
  let descriptor: LaunchDescriptor;
  try {
    descriptor = JSON.parse(readFileSync(path, 'utf8')) as LaunchDescriptor;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      runtime,
      ok: false,
      reason: missing
        ? `runtime ${runtime} is not part of this build (no runtimes/${runtime}/launch.json)`
        : `runtimes/${runtime}/launch.json is not valid JSON`,
      found: [],
    };
  }
  const needs = [...(descriptor.requires ?? []), ...(EXTRA[runtime]?.bins ?? [])];
  const found: Record<string, string> = {};
  for (const need of needs) {
    const bin = expandEnv(need.bin, env);
    const resolved = which(bin, env);
    if (!resolved) {
      const hint = need.hint ?? INSTALL_HINT[runtime] ?? `install ${bin}`;
      return { runtime, ok: false, reason: `${bin} not found (${hint})`, hint, found: Object.values(found) };
    }
    found[bin] = resolved;
  }
  const problem = await EXTRA[runtime]?.probe?.(found);
  if (problem) {
    const hint = INSTALL_HINT[runtime] ?? '';
    return { runtime, ok: false, reason: `${problem} (${hint})`, hint, found: Object.values(found) };
  }
  return { runtime, ok: true, found: Object.values(found) };
}

/** The root package.json engines floor: the dev toolchain every clone installs (vitest → vite 8, rolldown) needs 20.19. */
export const NODE_MIN = [20, 19, 0] as const;

export function nodeVersionOk(version: string = process.versions.node): boolean {
  return versionAtLeast(version.split('.').slice(0, 3).map(Number), NODE_MIN);
}
