import { Watch, type AppsV1Api, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import type { BackendLogger } from '../backend.js';
import { functionNameOf, sameState, stateOf, type DeploymentState } from './deployment-state.js';
import { MANAGED_SELECTOR } from './manifests.js';

export interface DeploymentWatcherOptions {
  kubeConfig: KubeConfig;
  apps: AppsV1Api;
  namespace: string;
  /** While the watch is broken, the Deployments are listed this often instead. */
  pollIntervalMs: number;
  logger: BackendLogger;
  /** A function's Deployment changed (undefined: it is gone). Called only on real changes. */
  onState(functionName: string, state: DeploymentState | undefined): void;
}

export interface DeploymentWatcher {
  /** 'watch' while a watch stream is open, 'poll' while falling back to periodic lists. */
  readonly mode: 'starting' | 'watch' | 'poll' | 'stopped';
  /** Resolves after the first successful list (or immediately once stopped). */
  readonly synced: Promise<void>;
  /** Last known state of a function's Deployment. */
  get(functionName: string): DeploymentState | undefined;
  /**
   * Record a Deployment this process just created, before the watch reports it, so a list that
   * no longer contains it (deleted in between) still reports it gone. Existing state wins.
   */
  seed(functionName: string, state: DeploymentState): void;
  stop(): Promise<void>;
}

/** Server-side watch timeout: the stream is re-opened from the last resourceVersion after it. */
const WATCH_TIMEOUT_SECONDS = 300;
/** A watch that ends sooner than this without an error is treated as broken (e.g. a proxy cutting it). */
const MIN_HEALTHY_WATCH_MS = 1000;
const MAX_BACKOFF_MS = 60_000;

type WatchOutcome = { kind: 'ended' | 'gone' } | { kind: 'failed'; error: unknown };

/**
 * Keeps every managed Deployment's replica counts in memory: list, then watch from the list's
 * resourceVersion; when the watch fails it lists on a timer and retries the watch with back-off.
 * This is what makes `endpoints()` free of I/O.
 */
export function startDeploymentWatcher(opts: DeploymentWatcherOptions): DeploymentWatcher {
  const { apps, namespace, logger } = opts;
  const path = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments`;
  const watch = new Watch(opts.kubeConfig);
  const known = new Map<string, DeploymentState>();
  let mode: DeploymentWatcher['mode'] = 'starting';
  let stopped = false;
  let abortWatch: AbortController | undefined;
  let wake: (() => void) | undefined;
  let markSynced!: () => void;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));

  function update(name: string, next: DeploymentState | undefined): void {
    const prev = known.get(name);
    if (sameState(prev, next)) return;
    if (next) known.set(name, next);
    else known.delete(name);
    opts.onState(name, next);
  }

  function applyEvent(type: string, d: V1Deployment): void {
    const name = functionNameOf(d);
    if (!name) return;
    update(name, type === 'DELETED' ? undefined : stateOf(d));
  }

  async function relist(): Promise<string> {
    const list = await apps.listNamespacedDeployment({ namespace, labelSelector: MANAGED_SELECTOR });
    const seen = new Set<string>();
    for (const d of list.items) {
      const name = functionNameOf(d);
      if (!name) continue;
      seen.add(name);
      update(name, stateOf(d));
    }
    for (const name of [...known.keys()]) if (!seen.has(name)) update(name, undefined);
    markSynced();
    return list.metadata?.resourceVersion ?? '';
  }

  function watchFrom(resourceVersion: string): Promise<WatchOutcome> {
    return new Promise((resolve) => {
      let gone = false;
      const startedAt = Date.now();
      const query = { resourceVersion, labelSelector: MANAGED_SELECTOR, allowWatchBookmarks: true, timeoutSeconds: WATCH_TIMEOUT_SECONDS };
      const onEvent = (type: string, obj: unknown): void => {
        if (type === 'ERROR') {
          // 410 Gone: our resourceVersion is too old; a fresh list is needed.
          if ((obj as { code?: number } | undefined)?.code === 410) gone = true;
          return;
        }
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') applyEvent(type, obj as V1Deployment);
      };
      const onDone = (err: unknown): void => {
        abortWatch = undefined;
        if (gone) resolve({ kind: 'gone' });
        else if (err) resolve({ kind: 'failed', error: err });
        else if (!stopped && Date.now() - startedAt < MIN_HEALTHY_WATCH_MS)
          resolve({ kind: 'failed', error: new Error('watch stream closed immediately') });
        else resolve({ kind: 'ended' });
      };
      watch.watch(path, query, onEvent, onDone).then((controller) => {
        if (stopped) controller.abort();
        else if (!controller.signal.aborted) {
          abortWatch = controller;
          mode = 'watch';
        }
      }, onDone);
    });
  }

  /** Sleep that `stop()` cuts short; used only between retries, never on a request path. */
  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  async function pollFor(durationMs: number): Promise<void> {
    const until = Date.now() + durationMs;
    while (!stopped && Date.now() < until) {
      await pause(Math.min(opts.pollIntervalMs, Math.max(0, until - Date.now())));
      if (stopped) return;
      try {
        await relist();
      } catch (err) {
        logger.warn({ err: String(err) }, 'kubernetes: listing Deployments failed');
      }
    }
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopped) {
      let resourceVersion: string;
      try {
        resourceVersion = await relist();
      } catch (err) {
        failures++;
        mode = 'poll';
        logger.warn({ err: String(err), failures }, 'kubernetes: listing Deployments failed; retrying');
        await pause(Math.min(opts.pollIntervalMs * failures, MAX_BACKOFF_MS));
        continue;
      }
      if (stopped) break;
      const outcome = await watchFrom(resourceVersion);
      if (stopped) break;
      if (outcome.kind !== 'failed') {
        failures = 0;
        continue;
      }
      failures++;
      mode = 'poll';
      const backoff = Math.min(opts.pollIntervalMs * 2 ** failures, MAX_BACKOFF_MS);
      logger.warn(
        { err: String(outcome.error), retryWatchInMs: backoff },
        'kubernetes: Deployment watch failed; polling until it can be re-opened',
      );
      await pollFor(backoff);
    }
  }

  void run();

  return {
    get mode() {
      return mode;
    },
    synced,
    get: (name) => known.get(name),
    seed(name, state) {
      if (!known.has(name)) update(name, state);
    },
    async stop() {
      stopped = true;
      mode = 'stopped';
      markSynced();
      abortWatch?.abort();
      wake?.();
    },
  };
}
