import { type Dirent, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SKIP_DIRS = new Set(['node_modules', '.git', '.nanofaas', 'coverage', 'results']);

/**
 * Newest and oldest modification time of files under `dirs` that `match`, skipping the directories
 * in `skip` (by name). Used for "is the build up to date?" checks, so it has to be cheap.
 */
export function mtimes(
  dirs: readonly string[],
  match: (path: string) => boolean,
  skip: ReadonlySet<string> = new Set(),
): { newest: number; oldest: number; count: number } {
  let newest = 0;
  let oldest = Number.POSITIVE_INFINITY;
  let count = 0;
  const walk = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name) && !skip.has(entry.name)) walk(path);
      } else if (entry.isFile() && match(path)) {
        const m = statSync(path).mtimeMs;
        newest = Math.max(newest, m);
        oldest = Math.min(oldest, m);
        count++;
      }
    }
  };
  for (const dir of dirs) walk(dir);
  return { newest, oldest, count };
}
