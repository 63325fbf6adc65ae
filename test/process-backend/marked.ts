/**
 * Finding leftover processes by a marker. A test gives its commands a unique argv element (e.g.
 * `sleep 93718264`, a duration no other process uses) and its runtimes a unique environment value,
 * then scans /proc: whatever carries the marker and is not a zombie is still running.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** A number usable as a `sleep` duration (~3 years: such a command never ends during a test). */
export function uniqueToken(): string {
  return String(90_000_000 + Math.floor(Math.random() * 9_999_999));
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}

function isZombieOrGone(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  return !stat || stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
}

export interface Found {
  pid: number;
  argv: string[];
}

/** Running processes whose argv has `token` as an element or whose environment contains `token`. */
export function marked(token: string, where: 'argv' | 'argv+env' = 'argv'): Found[] {
  const found: Found[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid || isZombieOrGone(pid)) continue;
    const argv = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean);
    const hit = argv.includes(token) || (where === 'argv+env' && (read(`/proc/${pid}/environ`) ?? '').includes(token));
    if (hit) found.push({ pid, argv });
  }
  return found;
}

/**
 * Polls /proc until `pick()` is empty (processes that are not our children give no exit event);
 * returns what is left when `timeoutMs` runs out, so the assertion shows it.
 */
export async function untilNone(pick: () => Found[], timeoutMs = 10_000): Promise<Found[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = pick();
    if (left.length === 0 || Date.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Polls /proc until `pick()` finds at least `count`; throws with what it saw after `timeoutMs`. */
export async function untilCount(pick: () => Found[], count: number, what: string, timeoutMs = 15_000): Promise<Found[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = pick();
    if (found.length >= count) return found;
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${count} ${what}; found ${listing(found)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** SIGKILL everything marked (afterAll: a failing test must not leak into the rest of the suite). */
export function killMarked(token: string): void {
  for (const p of marked(token, 'argv+env')) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function listing(list: readonly Found[]): string {
  return list.length === 0 ? 'none' : list.map((p) => `${p.pid}: ${p.argv.join(' ')}`).join('; ');
}
