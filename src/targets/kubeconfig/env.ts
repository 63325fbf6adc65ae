import { UsageError } from '../../cli/errors.js';

/** Parsing of the seed's environment variables: a bad value is a usage error naming the variable. */
export function envBool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new UsageError(`${name}=${env[name]} is not a boolean`, `set ${name}=true or ${name}=false`);
}

export function envString(env: NodeJS.ProcessEnv, name: string, fallback: string, pattern: RegExp, what: string): string {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!pattern.test(raw)) throw new UsageError(`${name}=${raw} is not ${what}`, `e.g. ${name}=${fallback}`);
  return raw;
}

export function envUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${name}=${raw} is not a URL`, `e.g. ${name}=http://192.168.64.5:30080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${name} must be an http(s) URL, got ${raw}`);
  return raw.replace(/\/+$/, '');
}

export const NAMESPACE = 'nanofaas';
export const RELEASE = 'nanofaas';
/** NodePorts of the seed's e2e values: API, management (metrics), Prometheus. */
export const NODE_PORTS = { api: 30080, management: 30081, prometheus: 30090 } as const;
