import type { CatalogFunction } from '../../util/catalog.js';
import { which } from '../../util/process.js';
import { formatArgv } from '../host/host.js';
import type { CheckResult, DoctorCheck } from '../target.js';
import type { ClusterAccess } from './access.js';
import { authHeader } from './api.js';
import { API_TOKEN_SECRET, readTokenArgv } from './api-token.js';
import { CONTROL_PLANE_DEPLOYMENT, helmStatusArgv, NAMESPACE, RELEASE } from './release.js';

export interface DoctorInput {
  access: ClusterAccess;
  functions: readonly CatalogFunction[];
  /** API base URL when reachable, for the runtimeMode check. */
  apiUrl: () => Promise<string | undefined>;
  /** The API token (api-token.ts); undefined when the release has none. */
  apiToken: () => Promise<string | undefined>;
  /** Commands that show why images cannot be pulled on this target (registry mirror, catalog). */
  imagePullFix: string;
  /** A `nanofaas …` command line that keeps the user's --target/--state-dir (TargetEnv.suggest). */
  suggest: (command: string) => string;
  /**
   * What has to hold before any cluster check means something (the VM runs, kubectl exists); its
   * failure replaces every check's result, so each says the one fix instead of a kubectl error.
   */
  precondition?: () => Promise<CheckResult | undefined>;
}

/**
 * Without `tool` every check would fail with the same spawn error: one check says so, with the fix,
 * in place of them all. Undefined when the tool is on PATH.
 */
export function missingToolChecks(tool: string, env: NodeJS.ProcessEnv, fix: string): DoctorCheck[] | undefined {
  if (which(tool, env)) return undefined;
  return [
    {
      id: `${tool}-installed`,
      title: `${tool} installed`,
      run: async () => ({ status: 'fail', detail: `${tool} is not on PATH`, fix }),
    },
  ];
}

/** The troubleshooting entries as checks, each with the command that fixes or explains it. */
export function clusterDoctorChecks(input: DoctorInput): DoctorCheck[] {
  const { access, suggest } = input;
  let blocked: Promise<CheckResult | undefined> | undefined;
  const gated = (check: DoctorCheck): DoctorCheck => ({
    ...check,
    run: async () => (await (blocked ??= input.precondition?.() ?? Promise.resolve(undefined))) ?? check.run(),
  });
  const host = access.host;
  const show = (argv: readonly string[]) => formatArgv(host.commandFor(argv));
  const kubectl = (...args: string[]) => [...access.kubectl, ...args];
  const exec = (argv: readonly string[]) => host.exec(argv, { timeoutMs: 30_000 });

  const checks: DoctorCheck[] = [
    {
      id: 'namespace',
      title: `namespace ${NAMESPACE} exists and belongs to the Helm release`,
      run: async (): Promise<CheckResult> => {
        const ns = await exec(kubectl('get', 'namespace', NAMESPACE, '-o', 'name'));
        if (ns.exitCode !== 0)
          return {
            status: 'fail',
            detail: `namespace ${NAMESPACE} not found`,
            fix: `${suggest('up')} (helm --create-namespace creates it)`,
          };
        const release = await exec(helmStatusArgv(access));
        if (release.exitCode !== 0) {
          return {
            status: 'warn',
            detail: `namespace exists but release ${RELEASE} is not installed in it`,
            fix: show(kubectl('delete', 'namespace', NAMESPACE)),
          };
        }
        return { status: 'ok', detail: `namespace ${NAMESPACE} with release ${RELEASE}` };
      },
    },
    {
      id: 'admission-env',
      title: 'sync admission setting (429 Too Many Requests)',
      run: async () => {
        const argv = kubectl(
          'get',
          'deployment',
          CONTROL_PLANE_DEPLOYMENT,
          '-n',
          NAMESPACE,
          '-o',
          'jsonpath={.spec.template.spec.containers[0].env}',
        );
        const res = await exec(argv);
        if (res.exitCode !== 0) return { status: 'fail', detail: `deployment ${CONTROL_PLANE_DEPLOYMENT} not found`, fix: show(argv) };
        let env: { name: string; value?: string }[] = [];
        try {
          env = JSON.parse(res.stdout || '[]') as typeof env;
        } catch {
          return { status: 'warn', detail: `could not parse the env: ${res.stdout.slice(0, 120)}`, fix: show(argv) };
        }
        const admission = env.find((e) => e.name === 'SYNC_QUEUE_ADMISSION_ENABLED')?.value ?? 'true (default)';
        return {
          status: 'ok',
          detail: `SYNC_QUEUE_ADMISSION_ENABLED=${admission}; it admits when it has no history, so 429s mean a full queue or a long estimated wait (see X-Queue-Reject-Reason)`,
          fix: `to turn it off: ${show([...access.helm, 'upgrade', RELEASE, '<chart>', '-n', NAMESPACE, '--reuse-values', '--set', 'controlPlane.extraEnv[0].name=SYNC_QUEUE_ADMISSION_ENABLED', '--set-string', 'controlPlane.extraEnv[0].value=false'])}`,
        };
      },
    },
    {
      id: 'image-pull',
      title: 'no pod stuck in ImagePullBackOff',
      run: async () => {
        const res = await exec(kubectl('get', 'pods', '-n', NAMESPACE, '-o', 'json'));
        if (res.exitCode !== 0)
          return {
            status: 'fail',
            detail: res.stderr.trim() || 'kubectl get pods failed',
            fix: show(kubectl('get', 'pods', '-n', NAMESPACE)),
          };
        const stuck = imagePullFailures(res.stdout);
        return stuck.length === 0
          ? { status: 'ok', detail: 'every image pulled' }
          : { status: 'fail', detail: `cannot pull: ${stuck.join(', ')}`, fix: input.imagePullFix };
      },
    },
    {
      id: 'exec-stdio',
      title: 'exec (bash) functions use runtimeMode STDIO',
      run: async () => {
        const api = await input.apiUrl();
        const execFns = input.functions.filter((fn) => fn.runtime === 'exec');
        if (!api) return { status: 'warn', detail: 'API not reachable; not checked', fix: suggest('status') };
        let headers: Record<string, string>;
        try {
          headers = authHeader(await input.apiToken());
        } catch (error) {
          return {
            status: 'warn',
            detail: `not checked: ${(error as Error).message}`,
            fix: show(kubectl('get', 'secret', API_TOKEN_SECRET, '-n', NAMESPACE)),
          };
        }
        const wrong: string[] = [];
        for (const fn of execFns) {
          const res = await fetch(`${api}/v1/functions/${fn.name}`, { headers, signal: AbortSignal.timeout(10_000) }).catch(
            () => undefined,
          );
          const mode = res?.ok ? ((await res.json()) as { runtimeMode?: string }).runtimeMode : undefined;
          if (mode !== 'STDIO') wrong.push(`${fn.name} (${mode ?? 'not registered'})`);
        }
        return wrong.length === 0
          ? { status: 'ok', detail: `${execFns.length} exec functions in STDIO mode` }
          : {
              status: 'fail',
              detail: `not STDIO: ${wrong.join(', ')}`,
              fix: `curl -H "Authorization: Bearer $TOKEN" ${api}/v1/functions/<name> | jq .runtimeMode (TOKEN=$(${show(readTokenArgv(access.kubectl))} | base64 -d)); then ${suggest('up')} (the values set runtimeMode STDIO)`,
            };
      },
    },
    {
      id: 'service-account-token',
      title: 'control plane has its ServiceAccount token (401 on registration)',
      run: async () => {
        const argv = kubectl(
          'exec',
          '-n',
          NAMESPACE,
          `deploy/${CONTROL_PLANE_DEPLOYMENT}`,
          '--',
          'ls',
          '/var/run/secrets/kubernetes.io/serviceaccount/',
        );
        const res = await exec(argv);
        if (res.exitCode === 0 && /\btoken\b/.test(res.stdout)) return { status: 'ok', detail: 'token, ca.crt and namespace mounted' };
        return {
          status: 'fail',
          detail: res.stderr.trim() || `no token in ${res.stdout.trim()}`,
          fix: `${show(argv)} — the chart must keep automountServiceAccountToken: true`,
        };
      },
    },
  ];
  return checks.map(gated);
}

/** Pod/container names waiting with ErrImagePull or ImagePullBackOff in `kubectl get pods -o json`. */
export function imagePullFailures(podsJson: string): string[] {
  const doc = JSON.parse(podsJson) as {
    items?: {
      metadata?: { name?: string };
      status?: { containerStatuses?: { name?: string; image?: string; state?: { waiting?: { reason?: string } } }[] };
    }[];
  };
  const out: string[] = [];
  for (const pod of doc.items ?? []) {
    for (const c of pod.status?.containerStatuses ?? []) {
      const reason = c.state?.waiting?.reason;
      if (reason === 'ImagePullBackOff' || reason === 'ErrImagePull') out.push(`${pod.metadata?.name}/${c.name} (${c.image}: ${reason})`);
    }
  }
  return out;
}
