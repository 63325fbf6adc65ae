import { closeSync, openSync, statSync } from 'node:fs';
import type { ResultPromise } from 'execa';
import { loadExeca } from '../../util/execa.js';
import type { StateDir } from '../../state/state-dir.js';
import { stopGroup, writeToFd } from '../../util/process.js';
import { isOwnedBy } from './owned-processes.js';

/** A long-lived component of the local platform, started by `startDetached`. */
export interface DetachedStart {
  child: ResultPromise<{ stdin: 'ignore'; stdout: 3; stderr: 3; reject: false }>;
  /** The component's log file in the state directory. */
  log: string;
  /** Where this run's output begins in the log. */
  offset: number;
  startedAt: string;
}

/**
 * Start a component detached (a process group of its own, writing straight to its log file) and
 * not waited for: it outlives this CLI, and `down` stops it by the group id the caller records.
 */
export async function startDetached(
  state: StateDir,
  component: string,
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string },
): Promise<DetachedStart> {
  const { execa } = await loadExeca();
  const log = state.logFile(component);
  const fd = openSync(log, 'a');
  // The log is appended to across runs: everything this run reports is read from here on.
  const offset = statSync(log).size;
  const child = execa(command, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    stdout: writeToFd(fd),
    stderr: writeToFd(fd),
    reject: false,
  });
  closeSync(fd);
  child.unref();
  return { child, log, offset, startedAt: new Date().toISOString() };
}

/** Stop a component whose start failed, and forget it unless the record is already another process's. */
export async function abandonStart(state: StateDir, component: string, pid: number | undefined, graceMs: number): Promise<void> {
  if (!pid) return;
  await stopGroup(pid, graceMs);
  if (state.process(component)?.pid === pid) state.forgetProcess(component);
}

/** Stop the recorded component and forget it; whether it was running. A recycled pid is not ours to kill. */
export async function stopRecorded(state: StateDir, component: string, graceMs: number): Promise<boolean> {
  const record = state.process(component);
  if (!record) return false;
  const wasRunning = isOwnedBy(record.pid, state.path) && (await stopGroup(record.pgid, graceMs));
  state.forgetProcess(component);
  return wasRunning;
}
