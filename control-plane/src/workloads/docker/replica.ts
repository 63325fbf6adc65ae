/**
 * Supervises one replica container: pick a free port, create and start the container, wait for
 * /health, learn of its death from the Engine's event stream, and start a fresh one (new port,
 * same name) with exponential back-off (../supervise.ts), counting restarts. The dead container
 * stays until its replacement is created, so `docker logs <name>` shows why it died meanwhile.
 */
import type { ContainerCreateOptions } from 'dockerode';
import type { BackendLogger } from '../backend.js';
import { freePort } from '../process/free-port.js';
import { waitForHealth } from '../process/health-probe.js';
import { type RunOutcome, type RestartPolicy, type StartFailure, supervise } from '../supervise.js';
import { type Engine, ImageMissingError } from './engine.js';
import type { ContainerExit } from './events.js';

export type { RestartPolicy, StartFailure } from '../supervise.js';

export interface DockerReplicaOptions {
  functionName: string;
  index: number;
  engine: Engine;
  /** The container's name: the same for every run of this replica. */
  containerName: string;
  /** Create options for a run on this port (named containerName). */
  createFor(port: number): ContainerCreateOptions;
  /** Resolves when the image is on the Engine (pulling it if need be). */
  ensureImage(): Promise<void>;
  /** The Engine said the image is missing after all (removed meanwhile). */
  imageGone(): void;
  /** Subscribe to the death of a container (events.ts); returns an unsubscribe. */
  watchExit(id: string, onExit: (exit: ContainerExit) => void): () => void;
  startupTimeoutMs: number;
  stopGraceMs: number;
  restart: RestartPolicy;
  logger: BackendLogger;
  /** Readiness, port, failure or restart count changed. */
  onChange(): void;
}

export interface DockerReplica {
  readonly index: number;
  readonly url: string | undefined;
  readonly ready: boolean;
  readonly containerId: string | undefined;
  /** Runs started after the first one (crashes and failed starts alike). */
  readonly restarts: number;
  /** How the last run ended, e.g. "exited with code 137"; undefined before any ended. */
  readonly lastExit: string | undefined;
  readonly lastFailure: StartFailure | undefined;
  /** The last run that ended badly and when, for status (kept after a recovery, unlike lastFailure). */
  readonly lastError: { message: string; at: string } | undefined;
  /** A lost event may hide a death: ask the Engine whether the container still runs. */
  recheck(): void;
  /** Stop supervising, stop (grace, then kill) and remove the container. */
  stop(): Promise<void>;
}

/** What a failed start adds: the container's last log lines. */
interface FailedStart {
  logTail: string[];
}

const LOG_TAIL_LINES = 20;

export function describeExit(exit: ContainerExit): string {
  return exit.oomKilled ? `was OOM-killed (code ${exit.exitCode})` : `exited with code ${exit.exitCode}`;
}

export function startDockerReplica(options: DockerReplicaOptions): DockerReplica {
  const { engine, functionName, index, logger } = options;
  const stopController = new AbortController();
  let url: string | undefined;
  let ready = false;
  let containerId: string | undefined;
  let restarts = 0;
  let lastExit: string | undefined;
  let lastFailure: StartFailure | undefined;
  let lastError: { message: string; at: string } | undefined;
  /** Resolves the running container's exit early when a recheck finds it gone. */
  let reportExit: ((exit: ContainerExit) => void) | undefined;
  const name = options.containerName;
  const stopped = new Promise<undefined>((resolve) =>
    stopController.signal.addEventListener('abort', () => resolve(undefined), { once: true }),
  );

  function update(next: { url?: string | undefined; ready: boolean }): void {
    const changed = next.url !== url || next.ready !== ready;
    url = next.url;
    ready = next.ready;
    if (changed) options.onChange();
  }

  async function tail(id: string): Promise<string[]> {
    return engine.logTail(id, LOG_TAIL_LINES).catch(() => []);
  }

  async function runOnce(): Promise<RunOutcome<FailedStart>> {
    try {
      await options.ensureImage();
    } catch (err) {
      return { kind: 'failed', reason: `could not get its image: ${(err as Error).message}`, logTail: [] };
    }
    const port = await freePort();
    if (stopController.signal.aborted) return { kind: 'stopped' };
    // The previous run's container (kept for its logs) or one a crashed control plane left.
    await engine.remove(name);
    let id: string;
    try {
      id = await engine.create(options.createFor(port));
    } catch (err) {
      if (err instanceof ImageMissingError) options.imageGone();
      throw err;
    }
    containerId = id;
    const exited = new Promise<ContainerExit>((resolve) => {
      reportExit = resolve;
      const off = options.watchExit(id, resolve);
      stopController.signal.addEventListener('abort', off, { once: true });
    });
    try {
      await engine.start(id);
      const base = `http://127.0.0.1:${port}`;
      update({ url: base, ready: false });
      const healthAbort = new AbortController();
      const startup = AbortSignal.any([healthAbort.signal, stopController.signal, AbortSignal.timeout(options.startupTimeoutMs)]);
      const first = await Promise.race([
        waitForHealth(base, { signal: startup }).then(
          () => ({ kind: 'healthy' as const }),
          () => ({ kind: 'gave-up' as const }),
        ),
        exited.then((exit) => ({ kind: 'exited' as const, exit })),
      ]);
      healthAbort.abort();
      if (stopController.signal.aborted) return { kind: 'stopped' };
      if (first.kind === 'exited') {
        lastExit = describeExit(first.exit);
        return { kind: 'failed', reason: `${lastExit} before /health answered 200`, logTail: await tail(id) };
      }
      if (first.kind === 'gave-up') {
        const logTail = await tail(id);
        await engine.stop(id, options.stopGraceMs);
        return { kind: 'failed', reason: `/health did not answer 200 within ${options.startupTimeoutMs} ms`, logTail };
      }
      lastFailure = undefined;
      const readyAt = Date.now();
      update({ url: base, ready: true });
      logger.info({ function: functionName, replica: index, container: id.slice(0, 12), port }, 'docker backend: replica ready');
      const exit = await Promise.race([exited, stopped]);
      if (exit === undefined || stopController.signal.aborted) return { kind: 'stopped' };
      lastExit = describeExit(exit);
      return { kind: 'crashed', readyForMs: Date.now() - readyAt, exit: lastExit };
    } finally {
      reportExit = undefined;
      update({ url: undefined, ready: false });
    }
  }

  const supervising = supervise<FailedStart>({
    signal: stopController.signal,
    restart: options.restart,
    run: runOnce,
    restarting() {
      restarts++;
      options.onChange();
    },
    crashed(exit, restartInMs) {
      lastError = { message: `replica ${index} died (${exit})`, at: new Date().toISOString() };
      logger.warn({ function: functionName, replica: index, exit, restartInMs }, 'docker backend: replica died; restarting');
    },
    failed(outcome, restartInMs) {
      const logTail = outcome.logTail ?? [];
      const said = logTail.at(-1);
      lastFailure = { reason: `replica ${index} ${outcome.reason}${said ? `: ${said}` : ''}`, logTail };
      lastError = { message: lastFailure.reason, at: new Date().toISOString() };
      logger.warn(
        { function: functionName, replica: index, reason: outcome.reason, restartInMs },
        'docker backend: replica failed to start',
      );
      options.onChange();
    },
  });

  return {
    index,
    get url() {
      return url;
    },
    get ready() {
      return ready;
    },
    get containerId() {
      return containerId;
    },
    get restarts() {
      return restarts;
    },
    get lastExit() {
      return lastExit;
    },
    get lastFailure() {
      return lastFailure;
    },
    get lastError() {
      return lastError;
    },
    recheck() {
      const id = containerId;
      const report = reportExit;
      if (!id || !report) return;
      void engine.inspect(id).then(
        (state) => {
          if (!state) report({ exitCode: -1, oomKilled: false });
          else if (!state.running) report({ exitCode: state.exitCode, oomKilled: state.oomKilled });
        },
        () => undefined,
      );
    },
    async stop() {
      stopController.abort();
      await supervising;
      if (containerId) {
        await engine.stop(containerId, options.stopGraceMs).catch(() => undefined);
        // An Engine that is gone now cannot be helped here: the next control plane of this owner
        // sweeps what is left.
        await engine.remove(containerId).catch((err: unknown) => {
          logger.warn({ err: String(err), function: functionName, replica: index }, 'docker backend: could not remove a container');
        });
      }
    },
  };
}
