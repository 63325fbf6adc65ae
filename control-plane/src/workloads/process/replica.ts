/**
 * Supervises one replica of a function: spawn on a free port, wait for /health, watch for exit,
 * restart with exponential back-off (../supervise.ts), stop on request.
 *
 * Each run leads its own process group (detached) and whatever it starts shares that group. When
 * the leader exits, for whatever reason (crash, kill, stop, startup failure), the whole group gets
 * SIGKILL: nothing a runtime started outlives it. Its stdin is a pipe this process holds open and
 * never writes, so a runtime sees EOF when the control plane dies, even by SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { BackendLogger } from '../backend.js';
import { type RunOutcome, type RestartPolicy, type StartFailure, supervise } from '../supervise.js';
import { freePort } from './free-port.js';
import { waitForHealth } from './health-probe.js';
import type { ResolvedLaunch } from './launch.js';
import { lastWords, logSize, openLogForAppend, readLogTail } from './log-file.js';
import { childExited, signalGroup, terminateGroup } from './process-group.js';

export type { RestartPolicy, StartFailure } from '../supervise.js';

export interface ReplicaOptions {
  functionName: string;
  index: number;
  /** Builds the launch for a given port (the port changes on every restart). */
  launchFor(port: number): ResolvedLaunch;
  /** Run as this user instead of the control plane's (function-user.ts). */
  user?: { uid: number; gid: number } | undefined;
  logFile: string;
  startupTimeoutMs: number;
  stopGraceMs: number;
  restart: RestartPolicy;
  logger: BackendLogger;
  /** Readiness, port or failure changed. */
  onChange(): void;
  /** Bookkeeping for orphan reaping (pid-registry.ts). */
  onSpawn(pid: number): void;
  onExit(pid: number): void;
}

export interface Replica {
  readonly index: number;
  /** Base URL while a process is running, undefined between runs. */
  readonly url: string | undefined;
  readonly ready: boolean;
  readonly pid: number | undefined;
  /** Why the last start attempt failed; cleared once a run becomes ready. */
  readonly lastFailure: StartFailure | undefined;
  /** Runs started after the first one (crashes and failed starts alike). */
  readonly restarts: number;
  /** The last run that ended badly and when, for status (kept after a recovery, unlike lastFailure). */
  readonly lastError: { message: string; at: string } | undefined;
  /** Stop supervising and terminate the process group; resolves when it has exited. */
  stop(): Promise<void>;
}

/** What a failed start adds: where its output begins in the log, when it got that far. */
interface FailedStart {
  logFrom?: number;
}

export function startReplica(options: ReplicaOptions): Replica {
  const { functionName, index, logger } = options;
  const stopController = new AbortController();
  let child: ChildProcess | undefined;
  // The write end of the running child's stdin. Held (never written) for as long as the child
  // runs, so it is neither closed nor collected: only the death of this process closes it.
  let parentPipe: Writable | undefined;
  let url: string | undefined;
  let ready = false;
  let lastFailure: StartFailure | undefined;
  let restarts = 0;
  let lastError: { message: string; at: string } | undefined;

  function update(next: { url?: string | undefined; ready: boolean }): void {
    const changed = next.url !== url || next.ready !== ready;
    url = next.url;
    ready = next.ready;
    if (changed) options.onChange();
  }

  async function runOnce(): Promise<RunOutcome<FailedStart>> {
    const port = await freePort();
    if (stopController.signal.aborted) return { kind: 'stopped' };
    const launch = options.launchFor(port);
    // This run's output starts here: its failure shows only its own lines.
    const logFrom = await logSize(options.logFile);
    const log = await openLogForAppend(options.logFile);
    let proc: ChildProcess;
    try {
      proc = spawn(launch.command, launch.args, {
        cwd: launch.cwd,
        env: launch.env,
        detached: true,
        stdio: ['pipe', log.fd, log.fd],
        ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
      });
      if (proc.stdin) {
        parentPipe = proc.stdin;
        // Nothing is ever written; an EPIPE after the child's exit is no error of ours.
        proc.stdin.on('error', () => undefined);
      }
      await log.write(
        `--- ${new Date().toISOString()} replica ${index} pid ${proc.pid ?? '-'} port ${port}: ${[launch.command, ...launch.args].join(' ')}\n`,
      );
    } finally {
      // The child holds its own copy of the descriptor.
      await log.close();
    }
    const spawnError = new Promise<Error>((resolve) => proc.once('error', resolve));
    if (proc.pid === undefined) {
      return { kind: 'failed', reason: `could not start ${launch.command}: ${(await spawnError).message}` };
    }
    const pid = proc.pid;
    child = proc;
    options.onSpawn(pid);
    const exited = childExited(proc).then(() => {
      // Sweep what the runtime left behind. The group id cannot be reused while any member lives,
      // so this reaches only this run's processes.
      signalGroup(pid, 'SIGKILL');
      if (parentPipe === proc.stdin) parentPipe = undefined;
      options.onExit(pid);
      return describeExit(proc);
    });
    try {
      update({ url: `http://127.0.0.1:${port}`, ready: false });
      const healthAbort = new AbortController();
      const startup = AbortSignal.any([healthAbort.signal, stopController.signal, AbortSignal.timeout(options.startupTimeoutMs)]);
      const first = await Promise.race([
        waitForHealth(`http://127.0.0.1:${port}`, { signal: startup }).then(
          () => ({ kind: 'healthy' as const }),
          () => ({ kind: 'gave-up' as const }),
        ),
        exited.then((exit) => ({ kind: 'exited' as const, exit })),
      ]);
      healthAbort.abort();
      if (stopController.signal.aborted) return { kind: 'stopped' };
      if (first.kind === 'exited') return { kind: 'failed', reason: `exited (${first.exit}) before /health answered 200`, logFrom };
      if (first.kind === 'gave-up') {
        await terminateGroup(proc, options.stopGraceMs);
        return { kind: 'failed', reason: `/health did not answer 200 within ${options.startupTimeoutMs} ms`, logFrom };
      }
      lastFailure = undefined;
      const readyAt = Date.now();
      update({ url: `http://127.0.0.1:${port}`, ready: true });
      logger.info({ function: functionName, replica: index, pid, port }, 'replica ready');
      const exit = await exited;
      if (stopController.signal.aborted) return { kind: 'stopped' };
      return { kind: 'crashed', readyForMs: Date.now() - readyAt, exit };
    } finally {
      // stop() may have landed while this run was still spawning: never leave the group behind.
      if (stopController.signal.aborted) await terminateGroup(proc, options.stopGraceMs);
      child = undefined;
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
      lastError = { message: `replica ${index} crashed (${exit})`, at: new Date().toISOString() };
      logger.warn({ function: functionName, replica: index, exit, restartInMs }, 'replica crashed; restarting');
    },
    async failed(outcome, restartInMs) {
      const logTail = outcome.logFrom === undefined ? [] : await readLogTail(options.logFile, { from: outcome.logFrom });
      const said = lastWords(logTail);
      lastFailure = { reason: `replica ${index} ${outcome.reason}${said ? `: ${said}` : ''}`, logTail };
      lastError = { message: lastFailure.reason, at: new Date().toISOString() };
      logger.warn({ function: functionName, replica: index, reason: outcome.reason, restartInMs }, 'replica failed to start');
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
    get pid() {
      return child?.pid;
    },
    get lastFailure() {
      return lastFailure;
    },
    get restarts() {
      return restarts;
    },
    get lastError() {
      return lastError;
    },
    async stop() {
      stopController.abort();
      const running = child;
      if (running) await terminateGroup(running, options.stopGraceMs);
      await supervising;
    },
  };
}

function describeExit(proc: ChildProcess): string {
  return proc.signalCode ? `signal ${proc.signalCode}` : `code ${proc.exitCode}`;
}
