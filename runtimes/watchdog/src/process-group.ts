import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

/**
 * Spawn argv as the leader of a new process group (detached), so a timeout can kill the command
 * together with everything it started (`bash` → `jq`, pipelines, background jobs). No shell.
 */
export function spawnGroup(argv: readonly string[], env: NodeJS.ProcessEnv, stdio: StdioOptions): ChildProcess {
  const [command, ...args] = argv;
  return spawn(command!, args, { env, stdio, detached: true, shell: false });
}

/** SIGKILL the whole group; a group that is already gone is fine. */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group has already exited
  }
}
