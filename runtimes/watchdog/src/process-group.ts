import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Spawn argv in the watchdog's own process group (no `detached`), so whatever stops the watchdog's
 * group (the process backend's sweep when the watchdog exits, the watchdog's own exit when its
 * control plane is gone) stops the command and everything it started too. No shell.
 */
export function spawnCommand(argv: readonly string[], env: NodeJS.ProcessEnv, stdio: StdioOptions): ChildProcess {
  const [command, ...args] = argv;
  return spawn(command!, args, { env, stdio, shell: false });
}

/**
 * SIGKILL the command and all its descendants (`bash` → `jq`, pipelines, background jobs, even
 * ones that called setsid). The command shares the watchdog's group, so a group kill is not an
 * option; descendants are found through the parent pid in /proc/<pid>/stat. Each process found is
 * stopped (SIGSTOP) before the next look, so nothing can fork a new child unseen or be re-parented
 * away from the tree while it is being collected; then everything collected gets SIGKILL.
 * Without /proc only the command itself is killed.
 */
export function killTree(child: ChildProcess): void {
  const root = child.pid;
  if (root === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const collected = new Set<number>();
  for (;;) {
    const fresh = [root, ...descendantsOf(root)].filter((pid) => !collected.has(pid));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      collected.add(pid);
      signal(pid, 'SIGSTOP');
    }
  }
  for (const pid of collected) signal(pid, 'SIGKILL');
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: it has already exited
  }
}

/** Every live descendant of `root`, from one pass over /proc (empty where there is no /proc). */
function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of names) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const ppid = parentOf(name);
    if (ppid === undefined) continue;
    const list = children.get(ppid);
    if (list) list.push(Number(name));
    else children.set(ppid, [Number(name)]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Field 4 of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses. */
function parentOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}
