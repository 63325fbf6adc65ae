import { readFileSync } from 'node:fs';

/**
 * Process groups, the one thing execa does not do. Every program the CLI starts runs detached
 * (execa's `detached`), which makes it the leader of a group of its own: the terminal's Ctrl-C
 * reaches only the CLI, which then stops its commands itself. execa stops the leader (timeout,
 * cancelSignal); helpers the leader started (npm → tsc, mvn's forks) live on in the group and
 * keep its pipes open, so they are signalled here, by group id (the leader's pid).
 */

/** Signal a process group (negative pid); falls back to the single process. Returns false if gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  if (!pid) return false;
  if (signalGroup(pid, signal)) return true;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The group only: once its leader is reaped, its pid may belong to someone else. */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie still answers kill(0); it is dead for our purposes.
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    // /proc/<pid>/stat: "pid (comm) S …" — comm may contain spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** Wait until the process is gone, up to timeoutMs. Shutdown path only, not a hot path. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
  return true;
}

/** SIGTERM the group, wait for a grace period, then SIGKILL. Resolves true if it had been running. */
export async function stopGroup(pid: number, graceMs = 10_000): Promise<boolean> {
  if (!isAlive(pid)) return false;
  killGroup(pid, 'SIGTERM');
  if (!(await waitForExit(pid, graceMs))) {
    killGroup(pid, 'SIGKILL');
    await waitForExit(pid, 2_000);
  }
  return true;
}

/** What this module needs of a subprocess (an execa subprocess is one). */
export interface GroupLeader {
  readonly pid?: number | undefined;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}

/** Groups of commands still running, killed if the CLI exits first (execa's `cleanup` skips detached programs). */
const running = new Set<number>();
let exitHookInstalled = false;

function killRunningGroups(): void {
  for (const pgid of running) signalGroup(pgid, 'SIGKILL');
}

/**
 * Look after the group of a command the CLI waits for: once its leader exits after it was told
 * to stop (`stopped()`: a timeout or Ctrl-C), whatever it left in its group is killed, so the
 * command's pipes close and its result arrives; and if the CLI itself exits while the command
 * runs (a second Ctrl-C), the group does not outlive it.
 */
export function superviseGroup(leader: GroupLeader, stopped: () => boolean): void {
  const pgid = leader.pid;
  if (!pgid) return;
  if (!exitHookInstalled) {
    process.on('exit', killRunningGroups);
    exitHookInstalled = true;
  }
  running.add(pgid);
  leader.once('exit', (_code, signal) => {
    running.delete(pgid);
    if (signal !== null || stopped()) signalGroup(pgid, 'SIGKILL');
  });
}
