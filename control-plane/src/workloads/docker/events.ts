/**
 * One Engine event stream for the whole backend, filtered by the owner label: a container of ours
 * that dies is known at once (no polling, no request per container). When the stream drops (the
 * Engine restarted, the socket was cut) it reconnects with back-off and asks the Engine to replay
 * everything since the last event it saw; `onResync` then lets the backend check its containers
 * itself, in case the gap outlived the Engine's replay buffer.
 */
import { createInterface } from 'node:readline';
import type { BackendLogger } from '../backend.js';
import { abortableDelay } from '../process/health-probe.js';
import type { Engine } from './engine.js';

export interface ContainerExit {
  exitCode: number;
  /** The kernel's OOM killer ended it (an `oom` event came before `die`). */
  oomKilled: boolean;
}

export interface EventsWatcher {
  /** Calls `onExit` once when container `id` dies; returns an unsubscribe. */
  watch(id: string, onExit: (exit: ContainerExit) => void): () => void;
  stop(): Promise<void>;
}

interface EngineEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  timeNano?: number;
}

export interface EventsWatcherOptions {
  engine: Engine;
  labels: Record<string, string>;
  logger: BackendLogger;
  /** After a reconnect: events may have been lost, re-check every watched container. */
  onResync(): void;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export function startEventsWatcher(options: EventsWatcherOptions): EventsWatcher {
  const { engine, logger } = options;
  const watchers = new Map<string, (exit: ContainerExit) => void>();
  const oomKilled = new Set<string>();
  const stopping = new AbortController();
  const label = Object.entries(options.labels).map(([k, v]) => `${k}=${v}`);
  // A second back: a container started right after this point cannot die unseen.
  let since = Date.now() / 1000 - 1;
  let current: NodeJS.ReadableStream | undefined;

  function handle(line: string): void {
    let event: EngineEvent;
    try {
      event = JSON.parse(line) as EngineEvent;
    } catch {
      return;
    }
    if (typeof event.timeNano === 'number') since = Math.max(since, event.timeNano / 1e9);
    const id = event.Actor?.ID;
    if (event.Type !== 'container' || !id) return;
    if (event.Action === 'oom') {
      oomKilled.add(id);
      return;
    }
    if (event.Action !== 'die') return;
    const onExit = watchers.get(id);
    const oom = oomKilled.delete(id);
    if (!onExit) return;
    watchers.delete(id);
    onExit({ exitCode: Number(event.Actor?.Attributes?.exitCode ?? -1), oomKilled: oom });
  }

  async function follow(): Promise<void> {
    let delay = options.initialDelayMs ?? 100;
    let outage = false;
    let first = true;
    while (!stopping.signal.aborted) {
      try {
        const stream = await engine.events({ since, filters: { type: ['container'], event: ['die', 'oom'], label } });
        current = stream;
        if (outage) logger.info({ socket: engine.socketPath }, 'docker backend: Engine event stream back');
        if (!first) options.onResync();
        outage = false;
        first = false;
        delay = options.initialDelayMs ?? 100;
        await new Promise<void>((resolve) => {
          const lines = createInterface({ input: stream as NodeJS.ReadableStream & AsyncIterable<string> });
          lines.on('line', handle);
          // readline re-emits the stream's error (ECONNRESET when the socket is cut): unhandled, it
          // would take the control plane down.
          lines.on('error', () => resolve());
          lines.once('close', resolve);
          stream.once('close', () => resolve());
          stream.on('error', () => resolve());
        });
        current = undefined;
        if (stopping.signal.aborted) return;
        logger.warn({ socket: engine.socketPath }, 'docker backend: Engine event stream ended; reconnecting');
      } catch (err) {
        if (!outage) logger.warn({ err: String(err) }, 'docker backend: cannot watch Engine events; retrying');
        outage = true;
      }
      try {
        await abortableDelay(delay, stopping.signal);
      } catch {
        return;
      }
      delay = Math.min(delay * 2, options.maxDelayMs ?? 5_000);
    }
  }

  const following = follow();

  return {
    watch(id, onExit) {
      watchers.set(id, onExit);
      return () => {
        if (watchers.get(id) === onExit) watchers.delete(id);
      };
    },
    async stop() {
      stopping.abort();
      const stream = current as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
      stream?.destroy?.();
      await following;
      watchers.clear();
    },
  };
}
