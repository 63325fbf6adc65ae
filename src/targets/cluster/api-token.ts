/**
 * The API token of a chart install. The chart generates it into the Secret `nanofaas-api-token`
 * (helm/nanofaas, `auth.*`); the CLI reads it with kubectl on the host that reaches the cluster
 * and sends it as the bearer token of every API call. NANOFAAS_API_TOKEN(_FILE), when set, wins
 * (the caller in src/cli decides that).
 */
import { formatArgv, type Host } from '../host/host.js';
import { NAMESPACE, RELEASE } from './release.js';

export const API_TOKEN_SECRET = `${RELEASE}-api-token`;
const KEY = 'token';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** `--ignore-not-found`: a release installed with auth.enabled=false has no Secret, which is not an error. */
export function readTokenArgv(kubectl: readonly string[]): string[] {
  return [...kubectl, '-n', NAMESPACE, 'get', 'secret', API_TOKEN_SECRET, '--ignore-not-found', '-o', `jsonpath={.data.${KEY}}`];
}

/** The token, or undefined when the release has none; throws with the command when kubectl cannot tell. */
export async function readApiToken(host: Host, kubectl: readonly string[]): Promise<string | undefined> {
  const argv = readTokenArgv(kubectl);
  const res = await host.exec(argv, { timeoutMs: 30_000 });
  const command = formatArgv(host.commandFor(argv));
  if (res.exitCode !== 0) {
    const why = res.timedOut ? 'timed out' : `exited with ${res.exitCode}: ${res.stderr.trim().split('\n')[0] ?? ''}`;
    throw new Error(`could not read the API token (${command} ${why}); set NANOFAAS_API_TOKEN to give it yourself`);
  }
  const encoded = res.stdout.trim();
  if (encoded === '') return undefined;
  if (!BASE64.test(encoded)) throw new Error(`${command} printed something that is not base64: ${encoded.slice(0, 40)}`);
  return Buffer.from(encoded, 'base64').toString('utf8').trim() || undefined;
}

/**
 * The token for this CLI run: `fromEnv` (NANOFAAS_API_TOKEN or _FILE) when given, else the Secret,
 * read on first use (in `up`, after `helm upgrade` created it) and kept; a failed read is retried next time.
 */
export function apiTokenSource(
  host: Host,
  kubectl: readonly string[],
  fromEnv: () => string | undefined,
): () => Promise<string | undefined> {
  let token: Promise<string | undefined> | undefined;
  return () => {
    const given = fromEnv();
    if (given !== undefined) return Promise.resolve(given);
    token ??= readApiToken(host, kubectl).catch((error: unknown) => {
      token = undefined;
      throw error;
    });
    return token;
  };
}
