/**
 * `logs` on a Kubernetes target: the function's pods, found by the labels the control plane's
 * kubernetes backend puts on them (control-plane/src/workloads/kubernetes/manifests.ts), read
 * through @kubernetes/client-node's Log (one streamed GET …/pods/<pod>/log per pod). With more
 * than one pod, each line starts with its pod's name. Pods created after the command started are
 * not followed (kubectl logs -l does not either).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Writable } from 'node:stream';
import { ApiException, CoreV1Api, KubeConfig, Log, type LogOptions, type V1Pod } from '@kubernetes/client-node';
import { lineSplitter } from '../../util/lines.js';
import type { LogsOptions } from '../target.js';
import { NAMESPACE } from './release.js';

/** The labels the backend sets on every function pod (functionLabels in manifests.ts). */
export function functionPodSelector(fn: string): string {
  return `app.kubernetes.io/managed-by=nanofaas,app.kubernetes.io/component=function,function=${fn}`;
}

/** The kubeconfig files KUBECONFIG names (merged, the first one's context wins), else ~/.kube/config. */
export function kubeConfigFromEnv(env: NodeJS.ProcessEnv, context?: string): KubeConfig {
  const named = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const files = (named.length > 0 ? named : [join(env.HOME ?? homedir(), '.kube', 'config')]).filter((f) => existsSync(f));
  if (files.length === 0) {
    throw new Error(named.length > 0 ? `KUBECONFIG names no file that exists (${named.join(delimiter)})` : 'no kubeconfig: set KUBECONFIG');
  }
  return kubeConfigFromFiles(files, context);
}

export function kubeConfigFromFiles(files: readonly string[], context?: string): KubeConfig {
  const kc = new KubeConfig();
  const [first, ...rest] = files;
  if (first) kc.loadFromFile(first);
  for (const file of rest) {
    const more = new KubeConfig();
    more.loadFromFile(file);
    kc.mergeConfig(more, true);
  }
  if (context) {
    if (!kc.getContextObject(context)) throw new Error(`the kubeconfig has no context ${context}`);
    kc.setCurrentContext(context);
  }
  return kc;
}

export async function kubernetesLogs(kc: KubeConfig, fn: string, options: LogsOptions, namespace = NAMESPACE): Promise<{ source: string }> {
  const core = kc.makeApiClient(CoreV1Api);
  let pods: V1Pod[];
  try {
    pods = (await core.listNamespacedPod({ namespace, labelSelector: functionPodSelector(fn) })).items;
  } catch (error) {
    throw new Error(`cannot list the pods of ${fn} in namespace ${namespace}: ${apiErrorText(error)}`);
  }
  const started = pods
    .filter((p) => p.status?.phase !== 'Pending' && p.metadata?.name)
    .sort((a, b) => podTime(a) - podTime(b) || String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
  if (started.length === 0) {
    throw new Error(
      pods.length === 0
        ? `function ${fn} has no pods in namespace ${namespace} (not registered there, or scaled to 0)`
        : `no pod of ${fn} has started yet (${pods.length} pending)`,
    );
  }
  const source = `pods ${started.map((p) => p.metadata?.name).join(', ')} in namespace ${namespace}`;
  // --tail 0 without --follow asks for nothing; the client drops tailLines=0 (it would mean "all").
  if (options.tail === 0 && !options.follow) return { source };
  const logOptions = requestOptions(options);
  const many = started.length > 1;
  await Promise.all(
    started.map((pod) => {
      const name = pod.metadata?.name as string;
      const container = pod.spec?.containers[0]?.name ?? 'function';
      return podLog(kc, namespace, name, container, logOptions, options, many ? `[${name}] ` : '');
    }),
  );
  return { source };
}

/** What the API server is asked for: tail and since as it takes them. */
export function requestOptions(options: LogsOptions, now = Date.now()): LogOptions {
  const out: LogOptions = { follow: options.follow };
  if (options.tail !== undefined && options.tail > 0) out.tailLines = options.tail;
  let since = options.since?.getTime();
  // Only new lines: "since now" (tailLines=0 would be dropped, see above).
  if (options.tail === 0) since = Math.max(since ?? now, now);
  if (since !== undefined) {
    // sinceSeconds is relative to the API server's clock; a time ahead of now needs sinceTime.
    if (since <= now) out.sinceSeconds = Math.max(1, Math.ceil((now - since) / 1000));
    else out.sinceTime = new Date(Math.floor(since / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  }
  return out;
}

/** One pod's log, line by line, until the API server ends it or the signal aborts. */
async function podLog(
  kc: KubeConfig,
  namespace: string,
  pod: string,
  container: string,
  request: LogOptions,
  options: LogsOptions,
  prefix: string,
): Promise<void> {
  if (options.signal.aborted) return;
  const split = lineSplitter((line) => options.line(prefix + line));
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      split.push(chunk);
      callback();
    },
    final(callback) {
      split.flush();
      callback();
      finished();
    },
  });
  let controller: AbortController;
  try {
    controller = await new Log(kc).log(namespace, pod, container, sink, request);
  } catch (error) {
    throw new Error(`cannot read the log of pod ${pod}: ${apiErrorText(error)}`);
  }
  const stop = () => {
    controller.abort();
    finished();
  };
  if (options.signal.aborted) stop();
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    await done;
  } finally {
    options.signal.removeEventListener('abort', stop);
  }
}

function podTime(pod: V1Pod): number {
  const created = pod.metadata?.creationTimestamp;
  return created ? new Date(created).getTime() : 0;
}

/** What the API server said (its Status message), else the error's own message. */
export function apiErrorText(error: unknown): string {
  if (error instanceof ApiException) {
    const body = error.body as { message?: unknown } | string | undefined;
    let message = typeof body === 'object' && typeof body?.message === 'string' ? body.message : undefined;
    if (message === undefined && typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: unknown };
        if (typeof parsed.message === 'string') message = parsed.message;
      } catch {
        message = body.trim().slice(0, 200) || undefined;
      }
    }
    return `HTTP ${error.code}${message ? `: ${message}` : ''}`;
  }
  return (error as Error).message;
}
