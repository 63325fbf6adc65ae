/**
 * Process-group signalling. Every replica is spawned with `detached: true`, so it leads its own
 * group and a runtime's own children (the watchdog's bash, jq, …) share its pgid: killing the
 * group stops them all, leaving no orphans behind.
 */
import type { ChildProcess } from 'node:child_process';

/** Send `signal` to the whole group led by `pid`; false when nothing of it is left. */
export function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Resolves once `child` has exited (immediately if it already has). Never rejects. */
export function childExited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    // A failed spawn emits 'error' and may never emit 'exit'.
    child.once('error', () => {
      if (child.pid === undefined) resolve();
    });
  });
}

/**
 * SIGTERM the leader, SIGKILL the whole group once the leader has exited or after `graceMs`,
 * resolve when the leader has exited. Only the leader is asked to stop: a runtime drains its
 * in-flight work on SIGTERM, and that work may be its own children (the watchdog's commands),
 * which a group-wide SIGTERM would cut short. Whatever is left when it exits is a straggler.
 */
export async function terminateGroup(child: ChildProcess, graceMs: number): Promise<void> {
  const pid = child.pid;
  const exited = childExited(child);
  if (pid === undefined) return exited;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace-over'>((resolve) => {
    timer = setTimeout(() => resolve('grace-over'), graceMs);
  });
  const first = await Promise.race([exited.then(() => 'exited' as const), graceOver]);
  clearTimeout(timer);
  signalOrKill(child, pid, 'SIGKILL');
  if (first === 'grace-over') await exited;
}

/** The group if there is one; otherwise the child itself (never leave terminateGroup waiting). */
function signalOrKill(child: ChildProcess, pid: number, signal: NodeJS.Signals): void {
  if (!signalGroup(pid, signal) && child.exitCode === null && child.signalCode === null) child.kill(signal);
}
