/**
 * Finding what a fault test started, by a marker, in /proc. Every process of one test run carries
 * the run's marker somewhere the kernel shows us: the control plane in its environment (its state
 * directory path), the runtimes in theirs (FAULTS_MARKER from the function spec's env), and the
 * commands the exec runtime starts in their argv (`sleep <token>`). The watchdog may clean its
 * commands' environment and a function may run as another user, so argv and environ are both read
 * (as root both are readable; a process we cannot read is not one of ours to judge).
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface Marker {
  /** Appears in the state dir path and in FAULTS_MARKER (environ, cmdline). */
  tag: string;
  /** Numeric; an exact argv element of the commands (`sleep <token>`). */
  token: string;
}

export interface MarkedProcess {
  pid: number;
  argv: string[];
}

export function newMarker(): Marker {
  // ~3 years as a sleep duration: such a command never ends by itself during a test.
  const token = String(90_000_000 + Math.floor(Math.random() * 9_999_999));
  return { token, tag: `nf-faults-${token}` };
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}

/** Running (not zombie) processes carrying the marker, the test process itself excepted. */
export function markedProcesses(marker: Marker): MarkedProcess[] {
  const found: MarkedProcess[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const stat = read(`/proc/${pid}/stat`);
    // A killed child not yet reaped by its parent (or by pid 1) is a zombie: it runs nothing.
    if (!stat || stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
    const argv = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean);
    const environ = read(`/proc/${pid}/environ`) ?? '';
    if (argv.includes(marker.token) || argv.some((a) => a.includes(marker.tag)) || environ.includes(marker.tag)) {
      found.push({ pid, argv });
    }
  }
  return found;
}

/** Commands of the exec function (`sleep <token>`), i.e. handler processes. */
export function markedCommands(marker: Marker): MarkedProcess[] {
  return markedProcesses(marker).filter((p) => p.argv.includes(marker.token));
}

/**
 * Polls until `pick()` returns nothing or `timeoutMs` passes; returns what is still there. Used
 * for processes the test cannot wait on (not its children): /proc gives no exit event for them.
 */
export async function waitUntilGone(pick: () => MarkedProcess[], timeoutMs = 10_000, intervalMs = 25): Promise<MarkedProcess[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = pick();
    if (left.length === 0 || Date.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Polls until `pick()` returns at least `count` processes; throws after `timeoutMs`. */
export async function waitUntilPresent(
  pick: () => MarkedProcess[],
  count: number,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<MarkedProcess[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = pick();
    if (found.length >= count) return found;
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${count} ${what}; found ${listing(found)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** SIGKILL everything with the marker (afterAll: a failing test must not leak into the suite). */
export function killMarked(marker: Marker): number {
  let killed = 0;
  for (const p of markedProcesses(marker)) {
    try {
      process.kill(p.pid, 'SIGKILL');
      killed += 1;
    } catch {
      // already gone
    }
  }
  return killed;
}

export function listing(list: readonly MarkedProcess[]): string {
  return list.length === 0 ? 'none' : list.map((p) => `${p.pid}: ${p.argv.join(' ')}`).join('; ');
}
